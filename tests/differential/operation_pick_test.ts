/**
 * OperationService's commit-picking RPCs on both servers: UserCherryPick,
 * UserRevert, UserSquash and UserRebaseConfirmable — the commits they
 * write (same ids), the refs they move, and their refusals (conflicts,
 * empty results, diverged branches, missing commits, GitLab's `/allowed`
 * and custom hooks).
 *
 * Every test works on a fresh copy of the small repository of
 * `../helpers/pick_history.ts`.
 *
 * @module
 */
import { encodeGitalyServers } from "../../src/service/remote/gitaly_servers.ts";
import { importPickHistory, type PickCommits, pickCommits } from "../helpers/pick_history.ts";
import { fixtureGit } from "./fixtures.ts";
import {
  assertSame,
  type CallResult,
  differentialTest,
  type Harness,
  type Method,
  type RepoRef,
  type RequestOf,
  type Side,
  SIDES,
} from "./harness.ts";
import {
  compareOperation,
  configureOperationServers,
  denyAccess,
  gitlab,
  installCustomHook,
  user,
  withGlRepository,
} from "./operation_harness.ts";

configureOperationServers();

const SERVICE = "gitaly.OperationService";
/** The requests' time: a while after the fixture's commits. */
const timestamp = { seconds: 1_700_100_000, nanos: 0 };

/** A fresh copy of the fixture on both sides, and its commits. */
async function pickRepo(h: Harness): Promise<{ repo: RepoRef; commits: PickCommits }> {
  const repo = await h.repo("empty");
  for (const side of SIDES) await importPickHistory(h.gitDir(side, repo));
  return { repo, commits: await pickCommits(h.gitDir("ours", repo)) };
}

/**
 * A second copy of the history (a fork) whose `main` has one more commit,
 * `fork`, that only it has; returns the fork and that commit.
 */
async function forkRepo(h: Harness, commits: PickCommits): Promise<{ fork: RepoRef; tip: string }> {
  const { repo: fork } = await pickRepo(h);
  let tip = "";
  for (const side of SIDES) {
    const dir = h.gitDir(side, fork);
    tip = (await fixtureGit(dir, [
      "commit-tree",
      "-p",
      commits.c2,
      "-m",
      "fork",
      `${commits.x1}^{tree}`,
    ]))
      .trim();
    await fixtureGit(dir, ["update-ref", "refs/heads/main", tip]);
  }
  return { fork, tip };
}

/** Both sides have the same commit at `rev` (raw object compared). */
async function sameObject(h: Harness, repo: RepoRef, rev: string): Promise<void> {
  const [ours, reference] = await Promise.all(
    SIDES.map((side) => h.git(side, repo, ["cat-file", "-p", rev])),
  );
  assertSame(ours, reference, `object ${rev}`);
}

/** Each side's number of loose objects. */
async function looseObjects(h: Harness, repo: RepoRef): Promise<Record<string, string>> {
  const count = async (side: "ours" | "reference") =>
    (await h.git(side, repo, ["count-objects", "-v"])).match(/^count: (\d+)$/m)?.[1] ?? "";
  return { ours: await count("ours"), reference: await count("reference") };
}

/** Call options naming `side`'s own server for the storage in `gitaly-servers`. */
function servers(h: Harness, side: Side): { metadata: Record<string, string> } {
  const value = encodeGitalyServers({ default: { address: h.addresses[side], token: "" } });
  return { metadata: { "gitaly-servers": value } };
}

/**
 * Calls `method` on each side with `gitaly-servers` naming that side's own
 * server for the storage (what a start or remote repository needs), and
 * asserts the same outcome and refs.
 */
async function compareWithServers<M extends Method<typeof SERVICE>>(
  h: Harness,
  repo: RepoRef,
  method: M,
  request: RequestOf<typeof SERVICE, M>,
): Promise<CallResult> {
  const [ours, reference] = await Promise.all(
    SIDES.map((side) => h.callSide(side, SERVICE, method, request, servers(h, side))),
  );
  assertSame(ours, reference, method);
  await h.compareRefs(repo);
  return ours;
}

/** A call that must fail on both sides alike and leave the refs as they were. */
async function compareRejected<M extends Method<typeof SERVICE>>(
  h: Harness,
  repo: RepoRef,
  method: M,
  request: RequestOf<typeof SERVICE, M>,
): Promise<void> {
  await compareOperation(h, repo, method, request, { rejected: true });
}

// ---- UserCherryPick ----

differentialTest(
  "UserCherryPick: picks a commit onto a branch, then it is already applied",
  async (h) => {
    const { repo, commits } = await pickRepo(h);
    const request = {
      repository: withGlRepository(repo),
      user: user(),
      commit: { id: commits.f1 },
      branch_name: "main",
      message: "Cherry-pick f1\n\n(cherry picked from commit f1)",
      timestamp,
    };
    await compareOperation(h, repo, "UserCherryPick", request);
    await sameObject(h, repo, "main");
    await compareRejected(h, repo, "UserCherryPick", request);
  },
);

differentialTest("UserCherryPick: merge commits, new branches, dry runs", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = { repository: withGlRepository(repo), user: user(), timestamp, message: "pick" };
  // A merge commit: its changes against the first parent.
  await compareOperation(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.m, parent_ids: [commits.c2, commits.f2] },
    branch_name: "conflict",
  });
  await sameObject(h, repo, "conflict");
  // A new branch from another one.
  await compareOperation(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "new-branch",
    start_branch_name: "main",
  });
  await sameObject(h, repo, "new-branch");
  // A dry run answers the start and moves nothing.
  await compareOperation(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f1 },
    branch_name: "main",
    dry_run: true,
  });
  // Into an empty branch name of the same history; user in another zone, no name in the commit.
  await compareOperation(h, repo, "UserCherryPick", {
    ...base,
    user: user({ timezone: "America/New_York" }),
    commit: { id: commits.x1 },
    branch_name: "feature",
  });
  await sameObject(h, repo, "feature");
});

differentialTest("UserCherryPick: conflicts, divergence, missing commits", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = { repository: withGlRepository(repo), user: user(), timestamp, message: "pick" };
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.x1 },
    branch_name: "main",
  });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.m },
    branch_name: "orphan",
  });
  // Built on `conflict`, but `main` does not descend from it.
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "main",
    start_branch_name: "conflict",
  });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: "1".repeat(40) },
    branch_name: "main",
  });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.r2 },
    branch_name: "main",
  });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "main",
    start_branch_name: "nope",
  });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "nope",
  });
});

differentialTest("UserCherryPick: expected old object ids", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "pick",
    commit: { id: commits.f2 },
    branch_name: "main",
  };
  await compareRejected(h, repo, "UserCherryPick", { ...base, expected_old_oid: "xyz" });
  await compareRejected(h, repo, "UserCherryPick", { ...base, expected_old_oid: "2".repeat(40) });
  // Not the branch's tip: the update-ref fails.
  await compareRejected(h, repo, "UserCherryPick", { ...base, expected_old_oid: commits.c1 });
  await compareOperation(h, repo, "UserCherryPick", { ...base, expected_old_oid: commits.c2 });
});

differentialTest("UserCherryPick: invalid requests", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "pick",
    commit: { id: commits.f2 },
    branch_name: "main",
  };
  await compareRejected(h, repo, "UserCherryPick", { ...base, repository: null });
  await compareRejected(h, repo, "UserCherryPick", { ...base, user: null });
  await compareRejected(h, repo, "UserCherryPick", { ...base, commit: null });
  await compareRejected(h, repo, "UserCherryPick", { ...base, branch_name: "" });
  await compareRejected(h, repo, "UserCherryPick", { ...base, message: "" });
  await compareRejected(h, repo, "UserCherryPick", { ...base, commit: { id: "" } });
  await compareRejected(h, repo, "UserCherryPick", { ...base, commit: { id: "-x" } });
  await compareRejected(h, repo, "UserCherryPick", { ...base, start_branch_name: "-x" });
  await compareRejected(h, repo, "UserCherryPick", {
    ...base,
    user: user({ timezone: "Mars/Olympus" }),
  });
});

differentialTest("UserCherryPick: refused by GitLab and by a custom hook", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const request = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "pick",
    commit: { id: commits.f2 },
    branch_name: "main",
  };
  const before = await looseObjects(h, repo);
  await denyAccess(
    "You are not allowed to push into this branch",
    () => compareRejected(h, repo, "UserCherryPick", request),
  );
  const remove = await installCustomHook(h, repo, "pre-receive", 'echo "hook says no" >&2; exit 1');
  await compareRejected(h, repo, "UserCherryPick", request);
  await remove();
  // Nothing of the refused picks reached the repository.
  assertSame(await looseObjects(h, repo), before, "loose objects after the refusals");
});

differentialTest("UserCherryPick: start repository", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const repository = withGlRepository(repo);
  const result = await compareWithServers(h, repo, "UserCherryPick", {
    repository,
    user: user(),
    timestamp,
    message: "pick",
    commit: { id: commits.f1 },
    branch_name: "from-start-repo",
    start_branch_name: "conflict",
    start_repository: repository,
  });
  assertSame(result.ok, true, "cherry-pick from a start repository");
  await compareWithServers(h, repo, "UserCherryPick", {
    repository,
    user: user(),
    timestamp,
    message: "pick",
    commit: { id: commits.f1 },
    branch_name: "x",
    start_branch_name: "nope",
    start_repository: repository,
  });
});

differentialTest("UserCherryPick and UserRevert: start branch in another repository", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const { fork, tip } = await forkRepo(h, commits);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "from the fork",
    start_branch_name: "main",
    start_repository: withGlRepository(fork),
  };
  const picked = await compareWithServers(h, repo, "UserCherryPick", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "picked",
  });
  assertSame(picked.ok, true, "cherry-pick onto the fork's main");
  await sameObject(h, repo, "picked");
  assertSame((await h.git("ours", repo, ["rev-parse", "picked^"])).trim(), tip, "parent");
  // A storage neither server has: named by no `gitaly-servers`, or not at all.
  const elsewhere = { ...base, commit: { id: commits.f2 }, branch_name: "x" };
  elsewhere.start_repository = { ...base.start_repository, storage_name: "elsewhere" };
  await compareRejected(h, repo, "UserCherryPick", elsewhere);
  const otherServers = encodeGitalyServers({ other: { address: "unix:/nonexistent", token: "" } });
  await compareOperation(h, repo, "UserCherryPick", elsewhere, {
    rejected: true,
    metadata: { "gitaly-servers": otherServers },
  });
  // The fork's own commit: only the fetched objects have it.
  await compareWithServers(h, repo, "UserRevert", {
    ...base,
    commit: { id: tip },
    branch_name: "reverted",
  });
  await sameObject(h, repo, "reverted");
  // Into an empty repository: the branch and the repository are created.
  const empty = await h.repo("empty");
  const created = await compareWithServers(h, empty, "UserRevert", {
    ...base,
    repository: withGlRepository(empty),
    start_repository: withGlRepository(repo),
    commit: { id: commits.c2 },
    branch_name: "main",
  });
  assertSame(
    created.ok && (created.responses[0] as Record<string, unknown>).branch_update,
    {
      commit_id: (await h.git("ours", empty, ["rev-parse", "main"])).trim(),
      branch_created: true,
      repo_created: true,
    },
    "revert into an empty repository",
  );
});

// ---- UserRevert ----

differentialTest("UserRevert: reverts, then the result is empty", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const request = {
    repository: withGlRepository(repo),
    user: user(),
    commit: { id: commits.c2 },
    branch_name: "main",
    message: 'Revert "c2"\n\nThis reverts commit c2.',
    timestamp,
  };
  await compareOperation(h, repo, "UserRevert", request);
  await sameObject(h, repo, "main");
  await compareOperation(h, repo, "UserRevert", request);
});

differentialTest("UserRevert: root and merge commits, new branches, dry runs", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = { repository: withGlRepository(repo), user: user(), timestamp, message: "revert" };
  await compareOperation(h, repo, "UserRevert", {
    ...base,
    commit: { id: commits.r2 },
    branch_name: "orphan",
  });
  await sameObject(h, repo, "orphan");
  await compareOperation(h, repo, "UserRevert", {
    ...base,
    commit: { id: commits.m, parent_ids: [commits.c2, commits.f2] },
    branch_name: "merged",
  });
  await sameObject(h, repo, "merged");
  await compareOperation(h, repo, "UserRevert", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "reverted",
    start_branch_name: "feature",
  });
  await sameObject(h, repo, "reverted");
  await compareOperation(h, repo, "UserRevert", {
    ...base,
    commit: { id: commits.f1 },
    branch_name: "feature",
    dry_run: true,
  });
});

differentialTest("UserRevert: conflicts, divergence, missing commits, bad requests", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "revert",
    commit: { id: commits.c2 },
    branch_name: "conflict",
  };
  await compareOperation(h, repo, "UserRevert", base);
  await compareOperation(h, repo, "UserRevert", {
    ...base,
    commit: { id: commits.f2 },
    branch_name: "main",
    start_branch_name: "feature",
  });
  await compareRejected(h, repo, "UserRevert", { ...base, commit: { id: "1".repeat(40) } });
  await compareRejected(h, repo, "UserRevert", { ...base, start_branch_name: "nope" });
  const clean = { ...base, commit: { id: commits.f2 }, branch_name: "feature" };
  await compareRejected(h, repo, "UserRevert", { ...clean, expected_old_oid: "xyz" });
  await compareRejected(h, repo, "UserRevert", { ...clean, expected_old_oid: "3".repeat(40) });
  await compareRejected(h, repo, "UserRevert", { ...clean, expected_old_oid: commits.f1 });
  await compareRejected(h, repo, "UserRevert", { ...base, user: null });
  await compareRejected(h, repo, "UserRevert", { ...base, commit: null });
  await compareRejected(h, repo, "UserRevert", { ...base, branch_name: "" });
  await compareRejected(h, repo, "UserRevert", { ...base, message: "" });
  await compareRejected(h, repo, "UserRevert", { ...base, commit: { id: "" } });
  await compareRejected(h, repo, "UserRevert", { ...base, commit: { id: "-x" } });
  await compareRejected(h, repo, "UserRevert", { ...base, user: user({ timezone: "Nowhere" }) });
});

differentialTest("UserRevert: refused by GitLab and by a custom hook", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const request = {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "revert",
    commit: { id: commits.c2 },
    branch_name: "main",
  };
  await denyAccess(
    "You are not allowed to push into this branch",
    () => compareRejected(h, repo, "UserRevert", request),
  );
  const remove = await installCustomHook(h, repo, "pre-receive", 'echo "hook says no" >&2; exit 1');
  await compareOperation(h, repo, "UserRevert", request);
  await remove();
  await compareOperation(h, repo, "UserRevert", { ...request, expected_old_oid: commits.c2 });
});

// ---- UserSquash ----

differentialTest("UserSquash: squashes a range into one commit", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    author: user({ name: "Ann Author", email: "ann@example.com", timezone: "Asia/Tokyo" }),
    timestamp,
    commit_message: "Squashed f1 and f2",
  };
  const first = await compareOperation(h, repo, "UserSquash", {
    ...base,
    start_sha: commits.c1,
    end_sha: commits.f2,
  });
  const sha = (first.ours as { responses: { squash_sha: string } }).responses.squash_sha;
  await sameObject(h, repo, sha);
  // A message already ending in a newline; unrelated histories; a branch name as revision.
  await compareOperation(h, repo, "UserSquash", {
    ...base,
    start_sha: commits.c2,
    end_sha: commits.r2,
    commit_message: "unrelated\n",
  });
  await compareOperation(h, repo, "UserSquash", {
    ...base,
    start_sha: "main",
    end_sha: "feature",
  });
});

differentialTest("UserSquash: conflicts and bad requests", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const base = {
    repository: withGlRepository(repo),
    user: user(),
    author: user(),
    timestamp,
    commit_message: "squash",
    start_sha: commits.c2,
    end_sha: commits.f2,
  };
  await compareRejected(h, repo, "UserSquash", { ...base, end_sha: commits.x1 });
  await compareRejected(h, repo, "UserSquash", { ...base, start_sha: "nope" });
  await compareRejected(h, repo, "UserSquash", { ...base, start_sha: "-x" });
  await compareRejected(h, repo, "UserSquash", { ...base, end_sha: "main:a.txt" });
  await compareRejected(h, repo, "UserSquash", { ...base, end_sha: "1".repeat(40) });
  await compareRejected(h, repo, "UserSquash", { ...base, user: null });
  await compareRejected(h, repo, "UserSquash", { ...base, user: user({ name: "" }) });
  await compareRejected(h, repo, "UserSquash", { ...base, user: user({ email: "" }) });
  await compareRejected(h, repo, "UserSquash", { ...base, start_sha: "" });
  await compareRejected(h, repo, "UserSquash", { ...base, end_sha: "" });
  await compareRejected(h, repo, "UserSquash", { ...base, commit_message: "" });
  await compareRejected(h, repo, "UserSquash", { ...base, author: null });
  await compareRejected(h, repo, "UserSquash", { ...base, author: user({ name: "" }) });
  await compareRejected(h, repo, "UserSquash", { ...base, author: user({ email: "" }) });
  await compareRejected(h, repo, "UserSquash", { ...base, author: user({ timezone: "Nope" }) });
  await compareRejected(h, repo, "UserSquash", { ...base, repository: null });
});

// ---- UserRebaseConfirmable ----

/** The header of a rebase of `branch` (at `sha`) onto `main` of the same repository. */
function rebaseHeader(repo: RepoRef, branch: string, sha: string) {
  return {
    repository: withGlRepository(repo),
    user: user(),
    rebase_id: "1",
    branch,
    branch_sha: sha,
    remote_repository: withGlRepository(repo),
    remote_branch: "main",
    git_push_options: ["ci.skip"],
    timestamp,
  };
}

differentialTest("UserRebaseConfirmable: rebases and applies", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const header = rebaseHeader(repo, "feature", commits.f2);
  const result = await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header },
    { apply: true },
  ]);
  assertSame(result.ok, true, "rebase");
  // Both servers passed the push options on to GitLab's /post_receive.
  const posted = gitlab().seen("/post_receive").slice(-2).map((r) => r.body?.push_options);
  assertSame(posted, [["ci.skip"], ["ci.skip"]], "push options");
  await sameObject(h, repo, "feature");
  await sameObject(h, repo, "feature^");
  // Already on top of main: a fast-forward to itself.
  await compareWithServers(h, repo, "UserRebaseConfirmable", [
    {
      header: {
        ...header,
        branch_sha: (await h.git("ours", repo, ["rev-parse", "feature"])).trim(),
      },
    },
    { apply: true },
  ]);
  // Behind main: fast-forwards to main.
  for (const side of SIDES) await h.git(side, repo, ["branch", "old", commits.c1]);
  await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header: rebaseHeader(repo, "old", commits.c1) },
    { apply: true },
  ]);
});

differentialTest("UserRebaseConfirmable: drops merges and commits upstream has", async (h) => {
  const { repo, commits } = await pickRepo(h);
  // main gets f1 cherry-picked: rebasing feature onto it leaves f1 out.
  await compareOperation(h, repo, "UserCherryPick", {
    repository: withGlRepository(repo),
    user: user(),
    timestamp,
    message: "f1\n",
    commit: { id: commits.f1 },
    branch_name: "main",
  });
  await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header: rebaseHeader(repo, "feature", commits.f2) },
    { apply: true },
  ]);
  await sameObject(h, repo, "feature");
  // A branch that merged an unrelated root commit: the root commit is picked, the merge dropped.
  for (const side of SIDES) {
    const dir = h.gitDir(side, repo);
    const joined = await fixtureGit(dir, [
      "commit-tree",
      "-p",
      commits.c2,
      "-p",
      commits.r2,
      "-m",
      "join",
      `${commits.m}^{tree}`,
    ]);
    await fixtureGit(dir, ["update-ref", "refs/heads/joined", joined.trim()]);
  }
  const joined = (await h.git("ours", repo, ["rev-parse", "joined"])).trim();
  await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header: { ...rebaseHeader(repo, "joined", joined), remote_branch: "feature" } },
    { apply: true },
  ]);
  await sameObject(h, repo, "joined");
  await sameObject(h, repo, "joined^");
  // Onto an unrelated history: Gitaly answers Internal, we a precise FailedPrecondition.
  const request = [
    { header: { ...rebaseHeader(repo, "merged", commits.m), remote_branch: "orphan" } },
    { apply: true },
  ];
  const [ours, reference] = await Promise.all(
    SIDES.map((side) =>
      h.callSide(side, SERVICE, "UserRebaseConfirmable", request, servers(h, side))
    ),
  );
  assertSame(
    ours.ok ? ours : { code: ours.codeName, message: ours.message },
    {
      code: "FailedPrecondition",
      message: "rebasing commits: branch and upstream share no history",
    },
    "ours, onto an unrelated history",
  );
  assertSame(
    reference.ok ? reference : { code: reference.codeName, message: reference.message },
    { code: "Internal", message: "rebasing commits: get merge-base: exit status 1" },
    "the reference, onto an unrelated history",
  );
  await h.compareRefs(repo);
});

differentialTest(
  "UserRebaseConfirmable: keeps long messages and odd zones of the picks",
  async (h) => {
    const { repo, commits } = await pickRepo(h);
    const message = `long\n\n${"x".repeat(80).concat("\n").repeat(150)}`;
    for (const side of SIDES) {
      const dir = h.gitDir(side, repo);
      const long = await fixtureGit(dir, [
        "commit-tree",
        "-p",
        commits.f2,
        "-F",
        "-",
        `${commits.x1}^{tree}`,
      ], {
        stdin: message,
        env: { GIT_AUTHOR_DATE: "1700000500 -0930" },
      });
      await fixtureGit(dir, ["update-ref", "refs/heads/long", long.trim()]);
    }
    const long = (await h.git("ours", repo, ["rev-parse", "long"])).trim();
    await compareWithServers(h, repo, "UserRebaseConfirmable", [
      { header: { ...rebaseHeader(repo, "long", long), remote_branch: "conflict" } },
      { apply: true },
    ]);
    await sameObject(h, repo, "long");
  },
);

differentialTest("UserRebaseConfirmable: onto a branch of another repository", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const { fork, tip } = await forkRepo(h, commits);
  const header = {
    ...rebaseHeader(repo, "feature", commits.f2),
    remote_repository: withGlRepository(fork),
  };
  const result = await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header },
    { apply: true },
  ]);
  assertSame(result.ok, true, "rebase onto the fork");
  await sameObject(h, repo, "feature");
  assertSame((await h.git("ours", repo, ["rev-parse", "feature~2"])).trim(), tip, "new base");
});

differentialTest("UserRebaseConfirmable: not applied, conflicts, bad headers", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const header = rebaseHeader(repo, "feature", commits.f2);
  await compareWithServers(h, repo, "UserRebaseConfirmable", [{ header }, { apply: false }]);
  await compareWithServers(h, repo, "UserRebaseConfirmable", [{ header }]);
  await compareWithServers(h, repo, "UserRebaseConfirmable", [
    { header: rebaseHeader(repo, "conflict", commits.x1) },
    { apply: true },
  ]);
  const bad = [
    { ...header, branch_sha: "xyz" },
    { ...header, branch_sha: "4".repeat(40) },
    // Not the branch's tip any more: the rebase works, the update fails.
    { ...header, branch_sha: commits.f1 },
    { ...header, remote_branch: "nope" },
    { ...header, remote_branch: "-main" },
    { ...header, remote_branch: "" },
    { ...header, branch: "" },
    { ...header, branch_sha: "" },
    { ...header, user: null },
    { ...header, user: user({ timezone: "Atlantis/Central" }) },
    { ...header, remote_repository: null },
    { ...header, repository: null },
  ];
  for (const wrong of bad) {
    await compareWithServers(h, repo, "UserRebaseConfirmable", [{ header: wrong }, {
      apply: true,
    }]);
  }
  await compareWithServers(h, repo, "UserRebaseConfirmable", [{ apply: true }]);
});

differentialTest("UserRebaseConfirmable: refused by GitLab and by a custom hook", async (h) => {
  const { repo, commits } = await pickRepo(h);
  const request = [{ header: rebaseHeader(repo, "feature", commits.f2) }, { apply: true }];
  await denyAccess(
    "You are not allowed to push into this branch",
    () => compareWithServers(h, repo, "UserRebaseConfirmable", request),
  );
  const remove = await installCustomHook(
    h,
    repo,
    "pre-receive",
    'echo "push option: $GIT_PUSH_OPTION_0" >&2; exit 1',
  );
  await compareWithServers(h, repo, "UserRebaseConfirmable", request);
  await remove();
});
