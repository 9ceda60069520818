/**
 * RepositoryService's checksum, object size, fsck and full path in process.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, runGit } from "../../helpers/handler.ts";

const h = await handlerHarness({ bytes: "text" });
const repo = await h.createRepo("m.git");
const work = await Deno.makeTempDir({ prefix: "maint-work-" });
await runGit(["init", "-q", "-b", "main", work]);
await Deno.writeTextFile(`${work}/a.txt`, "a\n".repeat(1000));
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "one"], work);
await Deno.writeTextFile(`${work}/b.txt`, "b\n".repeat(1000));
await runGit(["add", "-A"], work);
await runGit(["commit", "-qm", "two"], work);
await runGit(["push", "-q", h.repoPath(repo), "main", "HEAD~1:refs/heads/old"], work);
await Deno.remove(work, { recursive: true });
const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("ObjectsSize: --not across requests excludes what follows it (git 2.39 included)", async () => {
  const size = async (...requests: Record<string, unknown>[]) => {
    const result = await h.call("gitaly.RepositoryService", "ObjectsSize", requests);
    assert(result.ok, JSON.stringify(result));
    return result.responses[0].size as number;
  };
  const all = await size({ repository: repo, revisions: [enc("main")] });
  const onlyNew = await size({ repository: repo, revisions: [enc("main")] }, {
    revisions: [enc("--not"), enc("old")],
  });
  assert(onlyNew > 0 && onlyNew < all, `${onlyNew} < ${all}`);
  assertEquals(await size({ repository: repo, revisions: [enc("--all")] }), all);
});

Deno.test("CalculateChecksum: XOR of counted show-ref lines, zero without refs", async () => {
  const result = await h.call("gitaly.RepositoryService", "CalculateChecksum", {
    repository: repo,
  });
  assert(result.ok && /^[0-9a-f]{1,40}$/.test(String(result.responses[0].checksum)));
  const empty = await h.createRepo("e.git");
  assertEquals(
    await h.call("gitaly.RepositoryService", "CalculateChecksum", { repository: empty }),
    {
      ok: true,
      responses: [{ checksum: "0".repeat(40) }],
    },
  );
});

Deno.test("Fsck, FullPath and SetFullPath", async () => {
  assertEquals(await h.call("gitaly.RepositoryService", "Fsck", { repository: repo }), {
    ok: true,
    responses: [{}],
  });
  await h.call("gitaly.RepositoryService", "SetFullPath", { repository: repo, path: "-group/x" });
  assertEquals(await h.call("gitaly.RepositoryService", "FullPath", { repository: repo }), {
    ok: true,
    responses: [{ path: "-group/x" }],
  });
});

globalThis.addEventListener("unload", () => {
  h.close();
});
