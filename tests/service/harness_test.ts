/**
 * The in-process handler harness itself: real handlers, real git, mapped errors.
 *
 * @module
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { handlerHarness, repository } from "../helpers/handler.ts";

Deno.test("handler harness: calls a real handler on a real repository and maps errors", async () => {
  const h = await handlerHarness();
  try {
    const repo = await h.createRepo("a.git", async (git) => {
      await git("--work-tree=/nonexistent", "symbolic-ref", "HEAD", "refs/heads/main");
    });
    const exists = await h.call("gitaly.RepositoryService", "RepositoryExists", {
      repository: repo,
    });
    assertEquals(exists, { ok: true, responses: [{ exists: true }] });
    const missing = await h.call("gitaly.RepositoryService", "RepositoryExists", {
      repository: repository("missing.git"),
    });
    assertEquals(missing, { ok: true, responses: [{ exists: false }] });
    const bad = await h.call("gitaly.RepositoryService", "RepositoryExists", {
      repository: repository("a.git", "nope"),
    });
    assert(!bad.ok);
    assertEquals(bad.codeName, "InvalidArgument");
  } finally {
    await h.close();
  }
});
