/**
 * UserCherryPick, UserRevert, UserSquash and UserRebaseConfirmable in
 * process (no hooks runtime, no GitLab): the commits they write, the refs
 * they move and their structured errors. The differential tests compare
 * the same against Gitaly; these run without it.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type HandlerHarness, handlerHarness } from "../../helpers/handler.ts";
import { gitOk } from "../../helpers/gitrepo.ts";
import { importPickHistory, type PickCommits, pickCommits } from "../../helpers/pick_history.ts";
import type { Repository } from "../../../src/proto/types.ts";

const SERVICE = "gitaly.OperationService";
/** Bytes fields of requests (protobufjs reads strings as base64). */
const b = (text: string) => new TextEncoder().encode(text);
const user = {
  gl_id: "user-1",
  name: b("Jane Doe"),
  email: b("jane@example.com"),
  gl_username: "jane",
  timezone: "Europe/Berlin",
};
const timestamp = { seconds: 1_700_100_000 };

let counter = 0;

async function setup(h: HandlerHarness): Promise<{ repo: Repository; commits: PickCommits }> {
  const repo = { ...await h.createRepo(`pick-${++counter}.git`), gl_repository: "project-1" };
  await importPickHistory(h.repoPath(repo));
  return { repo, commits: await pickCommits(h.repoPath(repo)) };
}

/** Runs `fn` on a fresh repository with the history in a fresh harness. */
async function withPickRepo(
  fn: (h: HandlerHarness, repo: Repository, commits: PickCommits) => Promise<void>,
): Promise<void> {
  const h = await handlerHarness({ bytes: "text" });
  try {
    const { repo, commits } = await setup(h);
    await fn(h, repo, commits);
  } finally {
    await h.close();
  }
}

/** A cherry-pick or revert request: `commit` onto `branch` with `message`. */
function pick(repo: Repository, commit: string, branch: string, message: string) {
  return {
    repository: repo,
    user,
    commit: { id: commit },
    branch_name: b(branch),
    message: b(message),
    timestamp,
  };
}

function raw(h: HandlerHarness, repo: Repository, rev: string): Promise<string> {
  return gitOk(["--git-dir", h.repoPath(repo), "cat-file", "-p", rev]);
}

function revParse(h: HandlerHarness, repo: Repository, rev: string): Promise<string> {
  return gitOk(["--git-dir", h.repoPath(repo), "rev-parse", rev]);
}

Deno.test("UserCherryPick: keeps the author, commits as the user, then refuses the same pick", async () => {
  await withPickRepo(async (h, repo, commits) => {
    const request = pick(repo, commits.f1, "main", "pick f1");
    const result = await h.call(SERVICE, "UserCherryPick", request);
    assert(result.ok, JSON.stringify(result));
    const main = await revParse(h, repo, "main");
    assertEquals(result.responses, [{
      branch_update: { commit_id: main, repo_created: false, branch_created: false },
    }]);
    assertEquals(
      await raw(h, repo, "main"),
      [
        `tree ${await revParse(h, repo, "main^{tree}")}`,
        `parent ${commits.c2}`,
        "author Ada Author <ada@example.com> 1700000180 +0100",
        "committer Jane Doe <jane@example.com> 1700100000 +0100",
        "",
        "pick f1",
      ].join("\n"),
    );
    const again = await h.call(SERVICE, "UserCherryPick", request);
    assert(!again.ok);
    assertEquals(again.codeName, "FailedPrecondition");
    assertEquals(again.message, "cherry-pick: could not apply because the result was empty");
    const conflict = await h.call(SERVICE, "UserCherryPick", {
      ...request,
      commit: { id: commits.x1 },
    });
    assert(!conflict.ok);
    assertEquals(conflict.message, "cherry pick: merge: there are conflicting files");
    assertEquals(conflict.details.map((d) => d.type), ["gitaly.UserCherryPickError"]);
    assertEquals(await revParse(h, repo, "main"), main);
  });
});

Deno.test("UserRevert: reverts as the user; an empty result is answered in the response", async () => {
  await withPickRepo(async (h, repo, commits) => {
    const request = pick(repo, commits.c2, "main", "revert c2");
    const result = await h.call(SERVICE, "UserRevert", request);
    assert(result.ok, JSON.stringify(result));
    assertEquals(await revParse(h, repo, "main^{tree}"), await revParse(h, repo, "main~2^{tree}"));
    const again = await h.call(SERVICE, "UserRevert", request);
    assertEquals(again, {
      ok: true,
      responses: [{
        create_tree_error: "revert: could not apply because the result was empty",
        create_tree_error_code: 1, // EMPTY
      }],
    });
  });
});

Deno.test("UserSquash: one commit of the range, written into the repository, no ref moved", async () => {
  await withPickRepo(async (h, repo, commits) => {
    const result = await h.call(SERVICE, "UserSquash", {
      repository: repo,
      user,
      author: {
        ...user,
        name: b("Ann Author"),
        email: b("ann@example.com"),
        timezone: "Asia/Tokyo",
      },
      start_sha: commits.c1,
      end_sha: commits.f2,
      commit_message: b("squashed"),
      timestamp,
    });
    assert(result.ok, JSON.stringify(result));
    const sha = result.responses[0].squash_sha as string;
    assertEquals(
      await raw(h, repo, sha),
      [
        `tree ${await revParse(h, repo, "feature^{tree}")}`,
        `parent ${commits.c1}`,
        "author Ann Author <ann@example.com> 1700100000 +0900",
        "committer Jane Doe <jane@example.com> 1700100000 +0100",
        "",
        "squashed",
      ].join("\n"),
    );
    assertEquals(await revParse(h, repo, "feature"), commits.f2);
  });
});

Deno.test("UserRebaseConfirmable: sends the rebased tip, applies only when asked", async () => {
  await withPickRepo(async (h, repo, commits) => {
    const header = {
      repository: repo,
      user,
      rebase_id: "1",
      branch: b("feature"),
      branch_sha: commits.f2,
      remote_repository: repo,
      remote_branch: b("main"),
      timestamp,
    };
    const aborted = await h.call(SERVICE, "UserRebaseConfirmable", [{ header }, { apply: false }]);
    assert(!aborted.ok);
    assertEquals([aborted.codeName, aborted.message], [
      "FailedPrecondition",
      "rebase aborted by client",
    ]);
    assertEquals(await revParse(h, repo, "feature"), commits.f2);
    const applied = await h.call(SERVICE, "UserRebaseConfirmable", [{ header }, { apply: true }]);
    assert(applied.ok, JSON.stringify(applied));
    const tip = await revParse(h, repo, "feature");
    assertEquals(applied.responses, [{ rebase_sha: tip }, { rebase_applied: true }]);
    assertEquals(await revParse(h, repo, "feature~2"), commits.c2);
    assert((await raw(h, repo, "feature")).includes("committer Jane Doe <jane@example.com>"));
  });
});
