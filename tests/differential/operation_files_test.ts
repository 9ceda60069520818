/**
 * OperationService's file RPCs, ours against the reference Gitaly:
 * UserCommitFiles (every action, the path and index errors, start points
 * in this and another repository, force, expected old ids, hooks),
 * UserUpdateSubmodule and UserApplyPatch. Commit ids must match, so the
 * trees and commits written are byte-identical.
 *
 * @module
 */
import {
  type UserCommitFilesActionHeader,
  UserCommitFilesActionHeader_ActionType as A,
} from "../../src/proto/types.ts";
import { assertSame, differentialTest, type Harness, type Loose, type RepoRef } from "./harness.ts";
import {
  compareOperation,
  type CompareOperationOptions,
  configureOperationServers,
  denyAccess,
  installCustomHook,
  refOid,
  timestamp,
  user,
  withGlRepository,
} from "./operation_harness.ts";
import { RICH } from "./fixtures.ts";

configureOperationServers();

type ActionHeader = Loose<UserCommitFilesActionHeader>;
type Header = Record<string, unknown>;

/** An action: its header, then its content in the given chunks. */
function act(header: ActionHeader, ...content: (string | Uint8Array)[]) {
  return [{ action: { header } }, ...content.map((chunk) => ({ action: { content: chunk } }))];
}

function commitHeader(repo: RepoRef, extra: Header = {}) {
  return {
    header: {
      repository: withGlRepository(repo),
      user: user(),
      branch_name: "main",
      commit_message: "Commit files\n\nmade by a test",
      timestamp,
      ...extra,
    },
  };
}

/** Calls UserCommitFiles on both sides with `actions` after the header; compares everything. */
function commitFiles(
  h: Harness,
  repo: RepoRef,
  extra: Header,
  actions: unknown[][],
  options: CompareOperationOptions = {},
) {
  return compareOperation(
    h,
    repo,
    "UserCommitFiles",
    [commitHeader(repo, extra), ...actions.flat()] as never,
    options,
  );
}

/** The same tree on both sides: `ls-tree -r -t` of `rev`. */
async function compareTree(h: Harness, repo: RepoRef, rev: string): Promise<string> {
  const ours = await h.git("ours", repo, ["ls-tree", "-r", "-t", rev]);
  const reference = await h.git("reference", repo, ["ls-tree", "-r", "-t", rev]);
  if (ours !== reference) throw new Error(`trees differ:\n${ours}\n---\n${reference}`);
  return ours;
}

differentialTest("UserCommitFiles: every action in one commit", async (h) => {
  const repo = await h.repo("rich");
  await commitFiles(h, repo, {}, [
    act({ action: A.CREATE, file_path: "new/file.txt" }, "hello ", "world\n"),
    act({ action: A.CREATE, file_path: "new/run.sh", execute_filemode: true }, "#!/bin/sh\n"),
    act({ action: A.CREATE_DIR, file_path: "empty/dir" }),
    act({ action: A.UPDATE, file_path: "README.md" }, "# Updated\n"),
    act({
      action: A.MOVE,
      previous_path: "bin/blob.bin",
      file_path: "moved/blob.bin",
      infer_content: true,
    }),
    act({ action: A.MOVE, previous_path: "link-to-readme", file_path: "link2" }, "other"),
    act({ action: A.DELETE, file_path: "lfs/valid-1.bin" }),
    act({ action: A.CHMOD, file_path: "bin/run.sh", execute_filemode: false }),
    act({ action: A.CHMOD, file_path: "large.bin", execute_filemode: true }),
    act({ action: A.CREATE, file_path: "b64.txt", base64_content: true }, "aGVsbG8g", "d29ybGQK"),
  ]);
  await compareTree(h, repo, "main");
});

differentialTest("UserCommitFiles: large and odd content, non-UTF-8 paths", async (h) => {
  const repo = await h.repo("rich");
  const large = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31 + (i >> 11)) % 251);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < large.length; at += 128 * 1024) {
    chunks.push(large.subarray(at, at + 128 * 1024));
  }
  const latin1 = (name: string) => new Uint8Array([...new TextEncoder().encode(name), 0xe9]);
  await commitFiles(h, repo, {}, [
    act({ action: A.CREATE, file_path: "large/three-mib.bin" }, ...chunks),
    act(
      { action: A.CREATE, file_path: "b64/lines.txt", base64_content: true },
      "aGVs\r\n",
      "bG8K\n",
    ),
    act({ action: A.CREATE, file_path: "empty.txt" }),
    act({ action: A.UPDATE, file_path: RICH.latin1FileName }, "updated caf\xe9\n"),
    act({ action: A.CREATE, file_path: latin1("new/caf") }, "bytes\n"),
  ]);
  await compareTree(h, repo, "main");
  await commitFiles(h, repo, {}, [act({ action: A.CREATE, file_path: RICH.latin1FileName }, "x")], {
    rejected: true,
  });
  // A start_sha that names no commit.
  const blob = (await h.git("ours", repo, ["rev-parse", "main:README.md"])).trim();
  await commitFiles(h, repo, { start_sha: blob }, [act({ action: A.DELETE, file_path: "x" })], {
    rejected: true,
  });
});

differentialTest("UserCommitFiles: Gitaly's tree quirks", async (h) => {
  const repo = await h.repo("rich");
  // `a/a` where `a` is missing puts the file at the root; emptied trees are dropped.
  await commitFiles(h, repo, {}, [
    act({ action: A.CREATE, file_path: "x/y/x" }, "quirk\n"),
    act({ action: A.DELETE, file_path: "feature" }),
    act({ action: A.DELETE, file_path: "lfs/valid-1.bin" }),
    act({ action: A.DELETE, file_path: "lfs/valid-2.bin" }),
    act({ action: A.CHMOD, file_path: "bin", execute_filemode: true }),
  ]);
  await compareTree(h, repo, "main");
  // A file moved once cannot be moved again in the same request.
  await commitFiles(h, repo, {}, [
    act({ action: A.MOVE, previous_path: "README.md", file_path: "m1", infer_content: true }),
    act({ action: A.MOVE, previous_path: "m1", file_path: "m2", infer_content: true }),
  ], { rejected: true });
  // Paths are cleaned; creating over a directory replaces it.
  await commitFiles(h, repo, {}, [
    act({ action: A.CREATE, file_path: "/./lfs//../lfs/x.txt/" }, "x\n"),
  ], { rejected: true });
  await commitFiles(h, repo, {}, [
    act({ action: A.CREATE, file_path: "./dir/../lfs" }, "replaces a directory\n"),
    act({ action: A.UPDATE, file_path: "lfs" }, "updated\n"),
  ]);
  await compareTree(h, repo, "main");
});

differentialTest("UserCommitFiles: deleting everything leaves the empty tree", async (h) => {
  const repo = await h.repo("rich");
  const tree = await h.git("ours", repo, ["ls-tree", "--name-only", "main"]);
  await commitFiles(
    h,
    repo,
    {},
    tree.split("\n").map((name) => act({ action: A.DELETE, file_path: name })),
  );
  await compareTree(h, repo, "main");
});

differentialTest("UserCommitFiles: index errors", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  const cases: ActionHeader[] = [
    { action: A.CREATE, file_path: "../outside" },
    { action: A.CREATE, file_path: "a/../../outside" },
    { action: A.CREATE, file_path: "" },
    { action: A.CREATE, file_path: "invalid://file/name" },
    { action: A.CREATE, file_path: "README.md" },
    { action: A.CREATE, file_path: ".git/config" },
    { action: A.CREATE, file_path: "a/.." },
    { action: A.CREATE, file_path: "sub/.git/x" },
    { action: A.CREATE, file_path: "README.md/below" },
    { action: A.CREATE_DIR, file_path: "bin" },
    { action: A.CREATE_DIR, file_path: "README.md" },
    { action: A.CREATE_DIR, file_path: RICH.submodulePath },
    { action: A.UPDATE, file_path: "missing.txt" },
    { action: A.DELETE, file_path: "missing/file.txt" },
    { action: A.CHMOD, file_path: "missing" },
    { action: A.MOVE, previous_path: "missing", file_path: "there" },
    { action: A.MOVE, previous_path: "bin", file_path: "there", infer_content: true },
    { action: A.MOVE, previous_path: "README.md", file_path: "bin/run.sh", infer_content: true },
    { action: A.MOVE, previous_path: "../x", file_path: "there" },
    { action: 42 as A, file_path: "x" },
  ];
  for (const header of cases) {
    await commitFiles(h, repo, {}, [act(header, "content\n")], { rejected: true });
  }
});

differentialTest("UserCommitFiles: errors of the request stream", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  const request = (extra: Header, ...rest: unknown[]) => [commitHeader(repo, extra), ...rest];
  const cases: unknown[][] = [
    [{ action: { content: "no header yet" } }],
    [...act({ action: A.CREATE, file_path: "ok" }), {}],
    [...act({ action: A.CREATE, file_path: "../x" }), { action: { content: "late" } }, {}],
    act({ action: A.CREATE, file_path: "b64", base64_content: true }, "aGVsbG8=!!!!"),
    act({ action: A.UPDATE, file_path: "README.md", base64_content: true }, "a$b"),
    act(
      { action: A.MOVE, previous_path: "README.md", file_path: "x", base64_content: true },
      "abc",
    ),
  ];
  for (const rest of cases) {
    await compareOperation(h, repo, "UserCommitFiles", request({}, ...rest) as never, {
      rejected: true,
    });
  }
  await compareOperation(h, repo, "UserCommitFiles", [{ action: { content: "x" } }] as never, {
    rejected: true,
  });
});

differentialTest("UserCommitFiles: invalid headers", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  const headers: Header[] = [
    { user: null },
    { commit_message: "" },
    { branch_name: "" },
    { start_sha: "abc" },
    { start_sha: "z".repeat(40) },
    { start_sha: "1".repeat(40) },
    { start_branch_name: "missing" },
    { expected_old_oid: "zz" },
    { expected_old_oid: "1".repeat(40) },
    { repository: { storage_name: "default", relative_path: "missing.git" } },
    { repository: { storage_name: "nope", relative_path: repo.relative_path } },
    { user: user({ timezone: "Mars/Olympus" }) },
    { user: user({ name: " ", email: "" }) },
    { user: user({ name: "..", email: "<>" }) },
  ];
  for (const extra of headers) {
    await commitFiles(h, repo, extra, [act({ action: A.CREATE, file_path: "x" }, "x")], {
      rejected: true,
    });
  }
});

differentialTest("UserCommitFiles: branches, start points, force, expected old oid", async (h) => {
  const repo = await h.repo("rich");
  const main = await refOid(h, repo, "refs/heads/main");
  const stale = await refOid(h, repo, "refs/heads/feature/stale");
  const create = (name: string) => act({ action: A.CREATE, file_path: name }, `${name}\n`);
  // A new branch from the target's default (none: an orphan commit), from a branch, from a sha.
  await commitFiles(h, repo, { branch_name: "new/orphan" }, [create("orphan.txt")]);
  await commitFiles(
    h,
    repo,
    { branch_name: "new/from-stale", start_branch_name: "feature/stale" },
    [
      create("a.txt"),
    ],
  );
  await commitFiles(h, repo, { branch_name: "new/from-sha", start_sha: main }, [create("b.txt")]);
  // An existing branch from another start point: refused unless forced.
  await commitFiles(h, repo, { branch_name: "feature/merged", start_sha: stale }, [create("c")], {
    rejected: true,
  });
  await commitFiles(h, repo, { branch_name: "feature/merged", start_sha: stale, force: true }, [
    create("c"),
  ]);
  // expected_old_oid: the current tip passes, another commit fails.
  const tip = await refOid(h, repo, "refs/heads/main");
  await commitFiles(h, repo, { expected_old_oid: stale }, [create("d")], { rejected: true });
  await commitFiles(h, repo, {
    expected_old_oid: tip,
    commit_author_name: "Ann",
    commit_author_email: "ann@example.com",
  }, [
    create("d"),
  ]);
  // A branch name git refuses.
  await commitFiles(h, repo, { branch_name: "bad..name" }, [create("e")], { rejected: true });
  // No actions: a commit with the parent's tree.
  await commitFiles(h, repo, { commit_author_name: "Only name" }, []);
});

/** The `gitaly-servers` metadata Rails sends: where each storage lives (the reference's address). */
function gitalyServersMetadata(h: Harness): Record<string, string> {
  const servers = { default: { address: h.addresses.reference, token: "" } };
  return { "gitaly-servers": btoa(JSON.stringify(servers)) };
}

differentialTest("UserCommitFiles: empty repository, start_repository", async (h) => {
  const metadata = gitalyServersMetadata(h);
  const empty = await h.repo("empty");
  const rich = await h.repo("rich", { shared: true });
  await commitFiles(h, empty, { branch_name: "first" }, [
    act({ action: A.CREATE, file_path: "README.md" }, "first\n"),
    act({ action: A.CREATE_DIR, file_path: "docs" }),
  ]);
  await compareTree(h, empty, "first");
  // Start from another repository's branch: its objects are fetched.
  const other = await h.repo("empty");
  await commitFiles(
    h,
    other,
    {
      branch_name: "imported",
      start_repository: withGlRepository(rich),
      start_branch_name: "feature/merged",
    },
    [act({ action: A.UPDATE, file_path: "README.md" }, "imported\n")],
    { metadata },
  );
  await compareTree(h, other, "imported");
  await commitFiles(
    h,
    other,
    {
      branch_name: "by-sha",
      start_repository: withGlRepository(rich),
      start_sha: await refOid(h, rich, "refs/heads/feature/stale"),
    },
    [act({ action: A.DELETE, file_path: "README.md" })],
    { metadata },
  );
  await commitFiles(
    h,
    other,
    {
      branch_name: "missing-start",
      start_repository: withGlRepository(rich),
      start_branch_name: "no-such-branch",
    },
    [act({ action: A.DELETE, file_path: "README.md" })],
    { rejected: true, metadata },
  );
  // Without the metadata Gitaly cannot reach the start repository.
  await commitFiles(
    h,
    other,
    {
      branch_name: "no-metadata",
      start_repository: withGlRepository(rich),
      start_branch_name: "main",
    },
    [act({ action: A.DELETE, file_path: "README.md" })],
    { rejected: true },
  );
  // The start repository is the target itself: resolved locally.
  await commitFiles(h, other, {
    branch_name: "self",
    start_repository: withGlRepository(other),
    start_branch_name: "imported",
  }, [act({ action: A.CREATE, file_path: "self.txt" }, "self\n")]);
});

differentialTest("UserCommitFiles: hooks refuse", async (h) => {
  const repo = await h.repo("rich");
  const remove = await installCustomHook(h, repo, "pre-receive", "echo refused >&2; exit 1");
  await commitFiles(h, repo, {}, [act({ action: A.CREATE, file_path: "x" }, "x")], {
    rejected: true,
  });
  await remove();
  const removeUpdate = await installCustomHook(h, repo, "update", "echo $1 refused; exit 1");
  await commitFiles(h, repo, {}, [act({ action: A.CREATE, file_path: "x" }, "x")], {
    rejected: true,
  });
  await removeUpdate();
  await denyAccess(
    "not allowed to push",
    () =>
      commitFiles(h, repo, {}, [act({ action: A.CREATE, file_path: "x" }, "x")], {
        rejected: true,
      }),
  );
});

/**
 * Calls UserUpdateSubmodule on both sides, compares the outcome (an error,
 * or a response carrying `commit_error`/`pre_receive_error`) and asserts no
 * ref changed.
 */
async function refusedInResponse(h: Harness, repo: RepoRef, request: Header): Promise<void> {
  const before = await h.compareRefs(repo);
  const compared = await compareOperation(h, repo, "UserUpdateSubmodule", request as never);
  if (compared.ours.ok) {
    const response = compared.ours.responses as { branch_update?: unknown };
    if (response.branch_update) throw new Error(`updated: ${JSON.stringify(response)}`);
  }
  assertSame(await h.compareRefs(repo), before, "refs after the refusal");
}

function submoduleRequest(repo: RepoRef, extra: Header = {}) {
  return {
    repository: withGlRepository(repo),
    user: user(),
    submodule: RICH.submodulePath,
    commit_sha: "abcdefabcdefabcdefabcdefabcdefabcdefabcd",
    branch: "main",
    commit_message: "Update the submodule",
    timestamp,
    ...extra,
  };
}

differentialTest("UserUpdateSubmodule: updates the gitlink", async (h) => {
  const repo = await h.repo("rich");
  await compareOperation(h, repo, "UserUpdateSubmodule", submoduleRequest(repo) as never);
  await compareTree(h, repo, "main");
  // Again: already there.
  await refusedInResponse(h, repo, submoduleRequest(repo));
  const tip = await refOid(h, repo, "refs/heads/main");
  await compareOperation(
    h,
    repo,
    "UserUpdateSubmodule",
    submoduleRequest(repo, {
      commit_sha: "1111111111111111111111111111111111111111",
      expected_old_oid: tip,
      submodule: `./${RICH.submodulePath}/`,
    }) as never,
  );
});

differentialTest("UserUpdateSubmodule: errors", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  const empty = await h.repo("empty", { shared: true });
  const cases: Header[] = [
    { user: null },
    { commit_sha: "" },
    { commit_sha: "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD" },
    { commit_sha: "abc" },
    { branch: "" },
    { submodule: "" },
    { commit_message: "" },
    { branch: "missing" },
    { submodule: "README.md" },
    { submodule: "bin" },
    { submodule: "no/such/path" },
    { submodule: "../outside" },
    { submodule: "." },
    { expected_old_oid: "zz" },
    { expected_old_oid: "1".repeat(40) },
    { user: user({ timezone: "Mars/Olympus" }) },
    { repository: { storage_name: "default", relative_path: "missing.git" } },
  ];
  for (const extra of cases) {
    await refusedInResponse(h, repo, submoduleRequest(repo, extra));
  }
  await refusedInResponse(h, empty, submoduleRequest(empty));
  const stale = await refOid(h, repo, "refs/heads/feature/stale");
  await refusedInResponse(h, repo, submoduleRequest(repo, { expected_old_oid: stale }));
});

differentialTest("UserUpdateSubmodule: hooks refuse", async (h) => {
  const repo = await h.repo("rich");
  const remove = await installCustomHook(h, repo, "pre-receive", "echo no submodules >&2; exit 1");
  await refusedInResponse(h, repo, submoduleRequest(repo));
  await remove();
  await denyAccess("not allowed", () => refusedInResponse(h, repo, submoduleRequest(repo)));
});

function applyPatchRequests(repo: RepoRef, mbox: string | Uint8Array, extra: Header = {}) {
  const bytes = typeof mbox === "string" ? new TextEncoder().encode(mbox) : mbox;
  const chunks = [];
  for (let at = 0; at < bytes.length; at += 700) {
    chunks.push({ patches: bytes.slice(at, at + 700) });
  }
  return [{
    header: {
      repository: withGlRepository(repo),
      user: user(),
      target_branch: "main",
      timestamp,
      ...extra,
    },
  }, ...chunks];
}

function applyPatch(
  h: Harness,
  repo: RepoRef,
  mbox: string | Uint8Array,
  extra: Header = {},
  options: CompareOperationOptions = {},
) {
  return compareOperation(
    h,
    repo,
    "UserApplyPatch",
    applyPatchRequests(repo, mbox, extra) as never,
    options,
  );
}

/** The git blob id of `text`. */
async function blobId(text: string): Promise<string> {
  const body = new TextEncoder().encode(text);
  const head = new TextEncoder().encode(`blob ${body.length}\0`);
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const lines = (n: number, change: Record<number, string> = {}) =>
  Array.from({ length: n }, (_, i) => change[i + 1] ?? `line ${i + 1}`).join("\n") + "\n";

/** A mail with a patch of `path` from `before` to `after` (one hunk around `line`). */
async function linePatch(
  path: string,
  before: string,
  after: string,
  line: number,
  subject: string,
) {
  const old = before.split("\n");
  const next = after.split("\n");
  const start = Math.max(1, line - 3);
  const end = Math.min(old.length - 1, line + 3);
  const hunk: string[] = [];
  for (let i = start; i <= end; i++) {
    if (old[i - 1] === next[i - 1]) hunk.push(` ${old[i - 1]}`);
    else hunk.push(`-${old[i - 1]}`, `+${next[i - 1]}`);
  }
  const count = end - start + 1;
  return [
    "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001",
    "From: Ann Example <ann@example.com>",
    "Date: Tue, 14 Nov 2023 23:13:20 +0100",
    `Subject: [PATCH] ${subject}`,
    "",
    "Explained in the body.",
    "",
    "",
    "With trailing spaces.   ",
    "---",
    "",
    `diff --git a/${path} b/${path}`,
    `index ${(await blobId(before)).slice(0, 7)}..${(await blobId(after)).slice(0, 7)} 100644`,
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -${start},${count} +${start},${count} @@`,
    ...hunk,
    "-- ",
    "2.42.0",
    "",
    "",
  ].join("\n");
}

differentialTest("UserApplyPatch: applies format-patch mails", async (h) => {
  const repo = await h.repo("rich");
  const mbox = await h.git("ours", repo, [
    "format-patch",
    "--stdout",
    "feature/merged~2..feature/merged",
  ]);
  await applyPatch(h, repo, mbox + "\n");
  await compareTree(h, repo, "main");
  // The same mails again: the three-way merge finds them applied, no commit is added.
  await applyPatch(h, repo, mbox + "\n");
  // An empty mailbox changes nothing.
  await applyPatch(h, repo, "");
  // A branch that does not exist starts at the default branch.
  await applyPatch(h, repo, mbox + "\n", { target_branch: "patched" });
  // expected_old_oid: the branch's tip passes.
  const tip = await refOid(h, repo, "refs/heads/feature/stale");
  await applyPatch(h, repo, mbox + "\n", {
    target_branch: "feature/stale",
    expected_old_oid: tip,
    user: user({ timezone: "America/New_York" }),
  });
});

differentialTest("UserApplyPatch: three-way fallback and conflicts", async (h) => {
  const repo = await h.repo("rich");
  const base = lines(20);
  await commitFiles(h, repo, {}, [act({ action: A.CREATE, file_path: "twenty.txt" }, base)]);
  // Our side changes line 12, inside the patch's context: a plain apply fails, the merge works.
  const ours = lines(20, { 12: "line twelve" });
  await commitFiles(h, repo, {}, [act({ action: A.UPDATE, file_path: "twenty.txt" }, ours)]);
  const theirs = lines(20, { 15: "line fifteen" });
  await applyPatch(h, repo, await linePatch("twenty.txt", base, theirs, 15, "Change line 15"));
  await compareTree(h, repo, "main");
  // The same line changed on both sides: the patch fails.
  const conflicting = lines(20, { 12: "line 12 changed", 15: "line fifteen" });
  const mbox = await linePatch(
    "twenty.txt",
    base,
    lines(20, { 12: "line 12 changed" }),
    12,
    "Clash",
  );
  await applyPatch(h, repo, mbox, {}, { rejected: true });
  void conflicting;
  // A patch whose preimage is unknown cannot be merged.
  await applyPatch(
    h,
    repo,
    await linePatch("README.md", lines(8), lines(8, { 4: "four" }), 4, "Unknown base"),
    {},
    { rejected: true },
  );
});

differentialTest("UserApplyPatch: errors", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  const mbox = await h.git("ours", repo, [
    "format-patch",
    "--stdout",
    "feature/merged~1..feature/merged",
  ]);
  const cases: Header[] = [
    { user: null },
    { target_branch: "" },
    { repository: { storage_name: "default", relative_path: "missing.git" } },
    { user: user({ timezone: "Mars/Olympus" }) },
    { expected_old_oid: "zz" },
    { expected_old_oid: "1".repeat(40) },
  ];
  for (const extra of cases) {
    await applyPatch(h, repo, mbox, extra, { rejected: true });
  }
  await compareOperation(h, repo, "UserApplyPatch", [{ patches: mbox }] as never, {
    rejected: true,
  });
  await applyPatch(h, repo, "this is not a patch\n", {}, { rejected: true });
  const anonymous = mbox.replace(/^From: .*\n/m, "");
  await applyPatch(h, repo, anonymous, {}, { rejected: true });
  const empty = await h.repo("empty", { shared: true });
  await applyPatch(h, empty, mbox, {}, { rejected: true });
});

differentialTest("UserApplyPatch: hooks refuse", async (h) => {
  const repo = await h.repo("rich");
  const mbox = await h.git("ours", repo, [
    "format-patch",
    "--stdout",
    "feature/merged~1..feature/merged",
  ]);
  const remove = await installCustomHook(h, repo, "pre-receive", "echo no patches >&2; exit 1");
  await applyPatch(h, repo, mbox, {}, { rejected: true });
  await remove();
  await denyAccess("not allowed", () => applyPatch(h, repo, mbox, {}, { rejected: true }));
});
