/**
 * OperationService's merges in-process (no reference needed): UserMergeBranch's
 * two phases, conflicts with their detail, UserFFBranch, UserMergeToRef and
 * UserRebaseToRef on a small repository. The differential tests compare
 * them with Gitaly; these check the shape of each answer and what changed.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type HandlerHarness, handlerHarness, runGit } from "../../helpers/handler.ts";
import type { Repository } from "../../../src/proto/types.ts";

const OS = "gitaly.OperationService";
const bytes = (text: string) => new TextEncoder().encode(text);
const USER = {
  gl_id: "user-1",
  gl_username: "jane",
  name: bytes("Jane Doe"),
  email: bytes("jane@example.com"),
  timezone: "UTC",
};
const TIMESTAMP = { seconds: 1_700_000_000 };

/** main and feature diverge from base; conflict changes `a` as main does, differently. */
async function setup(h: HandlerHarness, name: string): Promise<Repository> {
  const repo = await h.createRepo(`${name}.git`, async (_git, path) => {
    const work = `${path}.work`;
    await runGit(["clone", "--quiet", path, work]);
    const run = (...args: string[]) => runGit(args, work);
    const write = (file: string, content: string) => Deno.writeTextFile(`${work}/${file}`, content);
    await write("a", "base\n");
    await run("add", "a");
    await run("commit", "--quiet", "-m", "base");
    await run("checkout", "--quiet", "-b", "feature");
    await write("f", "feature\n");
    await run("add", "f");
    await run("commit", "--quiet", "-m", "feature");
    await run("checkout", "--quiet", "-b", "conflict", "main");
    await write("a", "conflict\n");
    await run("commit", "--quiet", "-am", "conflict");
    await run("checkout", "--quiet", "main");
    await write("a", "main\n");
    await run("commit", "--quiet", "-am", "main");
    await run("push", "--quiet", "origin", "main", "feature", "conflict");
    await Deno.remove(work, { recursive: true });
  });
  return { ...repo, gl_repository: "project-1" };
}

async function revParse(h: HandlerHarness, repo: Repository, rev: string): Promise<string> {
  return await runGit(["--git-dir", h.repoPath(repo), "rev-parse", rev]);
}

Deno.test("UserMergeBranch: the merge commit first, the branch only on apply", async () => {
  const h = await handlerHarness({ bytes: "text" });
  try {
    const repo = await setup(h, "merge");
    const [main, feature] = [await revParse(h, repo, "main"), await revParse(h, repo, "feature")];
    const first = {
      repository: repo,
      user: USER,
      commit_id: feature,
      branch: bytes("main"),
      message: bytes("Merge feature"),
      timestamp: TIMESTAMP,
    };
    const aborted = await h.call(OS, "UserMergeBranch", [first, { apply: false }]);
    assert(!aborted.ok && aborted.message === "merge aborted by client", JSON.stringify(aborted));
    assertEquals(await revParse(h, repo, "main"), main);

    const applied = await h.call(OS, "UserMergeBranch", [first, { apply: true }]);
    assert(applied.ok, JSON.stringify(applied));
    const mergeOid = (applied.responses[0] as { commit_id: string }).commit_id;
    assertEquals(applied.responses[1], { branch_update: { commit_id: mergeOid } });
    assertEquals(await revParse(h, repo, "main"), mergeOid);
    assertEquals(await revParse(h, repo, "main^1"), main);
    assertEquals(await revParse(h, repo, "main^2"), feature);
  } finally {
    await h.close();
  }
});

Deno.test("UserMergeBranch: conflicts with their files and commits", async () => {
  const h = await handlerHarness({ bytes: "text" });
  try {
    const repo = await setup(h, "conflict");
    const [main, conflict] = [await revParse(h, repo, "main"), await revParse(h, repo, "conflict")];
    const result = await h.call(OS, "UserMergeBranch", [{
      repository: repo,
      user: USER,
      commit_id: conflict,
      branch: bytes("main"),
      message: bytes("Merge"),
      timestamp: TIMESTAMP,
    }, { apply: true }]);
    assert(!result.ok, "conflict");
    assertEquals(result.codeName, "FailedPrecondition");
    assertEquals(result.message, "merging commits: merge: there are conflicting files");
    const detail = result.details[0];
    assertEquals(detail.type, "gitaly.UserMergeBranchError");
    assertEquals(detail.value, {
      merge_conflict: {
        conflicting_files: [bytes("a")],
        conflicting_commit_ids: [main, conflict],
      },
    });
    assertEquals(await revParse(h, repo, "main"), main);
  } finally {
    await h.close();
  }
});

Deno.test("UserFFBranch, UserMergeToRef and UserRebaseToRef", async () => {
  const h = await handlerHarness({ bytes: "text" });
  try {
    const repo = await setup(h, "others");
    const [main, feature] = [await revParse(h, repo, "main"), await revParse(h, repo, "feature")];
    const git = (...args: string[]) => runGit(["--git-dir", h.repoPath(repo), ...args]);

    const notFf = await h.call(OS, "UserFFBranch", {
      repository: repo,
      user: USER,
      commit_id: main,
      branch: bytes("feature"),
    });
    assert(!notFf.ok && notFf.message === "not fast forward", JSON.stringify(notFf));
    await git("update-ref", "refs/heads/old", "main~1");
    const ff = await h.call(OS, "UserFFBranch", {
      repository: repo,
      user: USER,
      commit_id: main,
      branch: bytes("old"),
    });
    assertEquals(ff, { ok: true, responses: [{ branch_update: { commit_id: main } }] });

    const toRef = await h.call(OS, "UserMergeToRef", {
      repository: repo,
      user: USER,
      source_sha: feature,
      branch: bytes("main"),
      target_ref: bytes("refs/merge-requests/1/merge"),
      message: bytes("Merge request"),
      timestamp: TIMESTAMP,
    });
    assert(toRef.ok, JSON.stringify(toRef));
    const merged = (toRef.responses[0] as { commit_id: string }).commit_id;
    assertEquals(await git("rev-parse", "refs/merge-requests/1/merge"), merged);
    assertEquals(await git("rev-parse", `${merged}^@`), `${main}\n${feature}`);

    const rebased = await h.call(OS, "UserRebaseToRef", {
      repository: repo,
      user: USER,
      source_sha: feature,
      first_parent_ref: bytes("refs/heads/main"),
      target_ref: bytes("refs/merge-requests/1/train"),
      timestamp: TIMESTAMP,
    });
    assert(rebased.ok, JSON.stringify(rebased));
    const tip = (rebased.responses[0] as { commit_id: string }).commit_id;
    assertEquals(await git("rev-parse", "refs/merge-requests/1/train"), tip);
    assertEquals(await git("rev-parse", `${tip}^`), main);
    assertEquals(
      await git("show", "--no-patch", "--format=%an|%cn <%ce> %ct|%s", tip),
      `${await git("show", "--no-patch", "--format=%an", feature)}|Jane Doe <jane@example.com> ` +
        `1700000000|feature`,
    );
  } finally {
    await h.close();
  }
});
