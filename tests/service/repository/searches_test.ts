/**
 * RepositoryService's read-only searches in process: FindMergeBase,
 * GetRawChanges, SearchFilesByName, SearchFilesByContent.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, runGit } from "../../helpers/handler.ts";

const h = await handlerHarness({ bytes: "text" });
const work = await Deno.makeTempDir({ prefix: "search-work-" });
await runGit(["init", "-q", "-b", "main", work]);
await Deno.writeTextFile(`${work}/a.txt`, "alpha\nbeta\ngamma\n");
await Deno.writeTextFile(`${work}/b.md`, "# Title\n");
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "one"], work);
const base = await runGit(["rev-parse", "HEAD"], work);
await runGit(["checkout", "-qb", "side"], work);
await Deno.writeTextFile(`${work}/c.txt`, "side\n");
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "side"], work);
const side = await runGit(["rev-parse", "HEAD"], work);
await runGit(["checkout", "-q", "main"], work);
await runGit(["mv", "a.txt", "renamed.txt"], work);
await runGit(["rm", "-q", "b.md"], work);
await runGit(["commit", "-qm", "two"], work);
const main = await runGit(["rev-parse", "HEAD"], work);
const repo = await h.createRepo("s.git", async (git) => {
  await git("fetch", "-q", work, "main:refs/heads/main", "side:refs/heads/side");
});
await Deno.remove(work, { recursive: true });
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("FindMergeBase: the common ancestor, empty when there is none", async () => {
  const found = await h.call("gitaly.RepositoryService", "FindMergeBase", {
    repository: repo,
    revisions: [enc(main), enc(side)],
  });
  assertEquals(found, { ok: true, responses: [{ base: base }] });
  const none = await h.call("gitaly.RepositoryService", "FindMergeBase", {
    repository: repo,
    revisions: [enc(main), enc("nope")],
  });
  assert(none.ok && !none.responses[0].base);
  const one = await h.call("gitaly.RepositoryService", "FindMergeBase", {
    repository: repo,
    revisions: [enc(main)],
  });
  assert(!one.ok && one.codeName === "InvalidArgument");
});

Deno.test("GetRawChanges: operations, paths and blobs", async () => {
  const result = await h.call("gitaly.RepositoryService", "GetRawChanges", {
    repository: repo,
    from_revision: base,
    to_revision: main,
  });
  assert(result.ok);
  const changes = result.responses.flatMap((r) => r.raw_changes as Record<string, unknown>[]);
  // Operation 3 is DELETED, 5 RENAMED.
  assertEquals(changes.map((c) => [c.operation, c.old_path_bytes, c.new_path_bytes]), [
    [3, "b.md", undefined],
    [5, "a.txt", "renamed.txt"],
  ]);
  const bad = await h.call("gitaly.RepositoryService", "GetRawChanges", {
    repository: repo,
    from_revision: "nope",
    to_revision: main,
  });
  assert(!bad.ok && bad.message === `invalid 'from' revision: "nope"`);
});

Deno.test("SearchFilesByName and SearchFilesByContent", async () => {
  const names = await h.call("gitaly.RepositoryService", "SearchFilesByName", {
    repository: repo,
    query: ".",
    ref: enc("side"),
    filter: "\\.txt$",
  });
  assertEquals(names, { ok: true, responses: [{ files: ["a.txt", "c.txt"] }] });
  const content = await h.call("gitaly.RepositoryService", "SearchFilesByContent", {
    repository: repo,
    query: "BETA",
    ref: enc("main"),
  });
  assert(content.ok);
  assertEquals(content.responses.at(-1), { end_of_match: true });
  assert(String(content.responses[0].match_data).startsWith("main:renamed.txt\u00001\u0000alpha"));
  const dash = await h.call("gitaly.RepositoryService", "SearchFilesByName", {
    repository: repo,
    query: ".",
    ref: enc("-x"),
  });
  assert(!dash.ok && dash.message === "invalid ref argument");
});

globalThis.addEventListener("unload", () => {
  h.close();
});
