/**
 * DiffService in process: parsing, limits, batching and errors on a real repository.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, runGit } from "../../helpers/handler.ts";

const h = await handlerHarness({ bytes: "text" });
const work = await Deno.makeTempDir({ prefix: "diff-work-" });
await runGit(["init", "-q", "-b", "main", work]);
const write = (name: string, data: string | Uint8Array) =>
  typeof data === "string"
    ? Deno.writeTextFile(`${work}/${name}`, data)
    : Deno.writeFile(`${work}/${name}`, data);
await write("nums.txt", Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join(""));
await write("ws.txt", "hello world\n");
await write("bin.dat", new Uint8Array([0, 1, 2]));
await write("t\u00e9st.txt", "a\n");
await write("old name.txt", "same\n");
await Deno.symlink("nums.txt", `${work}/link`);
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "first"], work);
const left = await runGit(["rev-parse", "HEAD"], work);
await write(
  "nums.txt",
  Array.from({ length: 100 }, (_, i) => i === 49 ? "fifty\n" : `${i + 1}\n`).join(""),
);
await write("ws.txt", "hello  world\n");
await write("bin.dat", new Uint8Array([0, 1, 3]));
await runGit(["mv", "old name.txt", "new name.txt"], work);
await Deno.remove(`${work}/link`);
await write("link", "not a link\n");
for (let i = 1; i <= 12; i++) {
  await write(`f${i}.txt`, Array.from({ length: i * 100 }, (_, n) => `${n}\n`).join(""));
}
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "second"], work);
const right = await runGit(["rev-parse", "HEAD"], work);
const repo = await h.createRepo("d.git", async (git) => {
  await git("fetch", "-q", work, "main:refs/heads/main");
});
await Deno.remove(work, { recursive: true });

const ids = { repository: repo, left_commit_id: left, right_commit_id: right };
const text = (b: unknown) => String(b ?? "");

Deno.test("CommitDiff: one message a file, big patches continued, type change as delete + add", async () => {
  const result = await h.call("gitaly.DiffService", "CommitDiff", ids);
  assert(result.ok);
  const starts = result.responses.filter((r) =>
    r.from_path !== undefined || r.to_path !== undefined
  );
  const paths = starts.map((r) => text(r.to_path));
  assertEquals(paths, [
    "bin.dat",
    ...Array.from({ length: 12 }, (_, i) => `f${i + 1}.txt`).sort(),
    "link",
    "link",
    "new name.txt",
    "nums.txt",
    "ws.txt",
  ]);
  const bin = starts[0];
  assertEquals(bin.binary, true);
  const links = starts.filter((r) => text(r.to_path) === "link");
  assertEquals([links[0].new_mode ?? 0, links[1].old_mode ?? 0], [0, 0]);
  assertEquals(links[0].old_mode, 0o120000);
  assertEquals(links[1].new_mode, 0o100644);
  const rename = starts.find((r) => text(r.to_path) === "new name.txt")!;
  assertEquals(text(rename.from_path), "old name.txt");
  // f12 has 1,200 added lines: its patch spans several 5 KiB messages.
  const last = result.responses.filter((r) => r.end_of_patch === true);
  assertEquals(last.length, starts.length);
});

Deno.test("CommitDiff: enforce_limits stops with an empty overflow marker", async () => {
  const result = await h.call("gitaly.DiffService", "CommitDiff", {
    ...ids,
    enforce_limits: true,
    max_files: 3,
    max_lines: 100000,
    max_bytes: 10000000,
    max_patch_bytes: 100000,
  });
  assert(result.ok);
  assertEquals(result.responses.length > 3, true);
  const end = result.responses.at(-1)!;
  assertEquals(end.overflow_marker, true);
  assert(!end.to_path);
});

Deno.test("CommitDiff: collapse_diffs past the safe limits empties patches", async () => {
  const result = await h.call("gitaly.DiffService", "CommitDiff", {
    ...ids,
    collapse_diffs: true,
    safe_max_files: 2,
    safe_max_lines: 100000,
    safe_max_bytes: 10000000,
  });
  assert(result.ok);
  const collapsed = result.responses.filter((r) => r.collapsed === true);
  assert(collapsed.length > 5);
  assert(collapsed.every((r) => !r.raw_patch_data));
});

Deno.test("CommitDelta, DiffStats, RawDiff, RawPatch, FindChangedPaths, GetPatchID answer", async () => {
  const delta = await h.call("gitaly.DiffService", "CommitDelta", ids);
  assert(delta.ok);
  const stats = await h.call("gitaly.DiffService", "DiffStats", ids);
  assert(stats.ok);
  const numStats = stats.responses.flatMap((r) => r.stats as Record<string, unknown>[]);
  assertEquals(numStats.find((s) => text(s.path) === "nums.txt"), {
    path: "nums.txt",
    additions: 1,
    deletions: 1,
  });
  const raw = await h.call("gitaly.DiffService", "RawDiff", ids);
  assert(raw.ok && raw.responses.map((r) => text(r.data)).join("").startsWith("diff --git"));
  const patch = await h.call("gitaly.DiffService", "RawPatch", ids);
  assert(
    patch.ok &&
      patch.responses.map((r) => text(r.data)).join("").includes("Subject: [PATCH] second"),
  );
  const changed = await h.call("gitaly.DiffService", "FindChangedPaths", {
    repository: repo,
    commits: [right],
  });
  assert(changed.ok);
  const patchId = await h.call("gitaly.DiffService", "GetPatchID", {
    repository: repo,
    old_revision: new TextEncoder().encode(left),
    new_revision: new TextEncoder().encode(right),
  });
  assert(patchId.ok && /^[0-9a-f]{40}$/.test(text(patchId.responses[0].patch_id)));
});

Deno.test("DiffService: bad input gets precise codes", async () => {
  const empty = await h.call("gitaly.DiffService", "CommitDiff", { ...ids, left_commit_id: "" });
  assert(!empty.ok);
  assertEquals([empty.codeName, empty.message], ["InvalidArgument", "empty LeftCommitId"]);
  const dash = await h.call("gitaly.DiffService", "CommitDiff", {
    ...ids,
    left_commit_id: "--output=/tmp/x",
  });
  assert(!dash.ok);
  assertEquals(dash.codeName, "InvalidArgument");
  const missing = await h.call("gitaly.DiffService", "DiffStats", {
    ...ids,
    right_commit_id: "deadbeef",
  });
  assert(!missing.ok);
  assertEquals([missing.codeName, missing.message], ["FailedPrecondition", "exit status 128"]);
  const unknown = await h.call("gitaly.DiffService", "FindChangedPaths", {
    repository: repo,
    commits: ["nope"],
  });
  assert(!unknown.ok);
  assertEquals(unknown.codeName, "NotFound");
  const same = await h.call("gitaly.DiffService", "GetPatchID", {
    repository: repo,
    old_revision: new TextEncoder().encode(left),
    new_revision: new TextEncoder().encode(left),
  });
  assert(!same.ok);
  assertEquals(same.codeName, "FailedPrecondition");
});

globalThis.addEventListener("unload", () => {
  h.close();
});
