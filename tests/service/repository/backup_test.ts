/**
 * Server-side backups without a `[backup]` sink: Gitaly's FailedPrecondition.
 * (Everything else is compared with the reference in
 * tests/differential/backup_test.ts.)
 *
 * @module
 */
import { assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, repository } from "../../helpers/handler.ts";

Deno.test("BackupRepository and RestoreRepository need a configured sink", async () => {
  const h = await handlerHarness();
  try {
    const repo = repository("a.git");
    for (
      const [method, rpc] of [["BackupRepository", "backup"], ["RestoreRepository", "restore"]]
    ) {
      const result = await h.call("gitaly.RepositoryService", method as "BackupRepository", {
        repository: repo,
        vanity_repository: repo,
        backup_id: "x",
      });
      assertEquals(result.ok ? "ok" : [result.codeName, result.message], [
        "FailedPrecondition",
        `${rpc} repository: server-side backups are not configured`,
      ]);
    }
  } finally {
    await h.close();
  }
});
