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

Deno.test("the legacy layout: fixed paths, no increments, restores the latest", async () => {
  const sink = await Deno.makeTempDir({ prefix: "gitaly-sink-" });
  const h = await handlerHarness({
    extraToml: `[backup]\ngo_cloud_url = "file://${sink}"\nlayout = "legacy"\n`,
  });
  try {
    const repo = await h.createRepo("group/a.git", async (git) => {
      await git("commit-tree", "-m", "one", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
        .then((oid) => git("update-ref", "refs/heads/main", oid));
    });
    const call = (method: "BackupRepository" | "RestoreRepository", req: object) =>
      h.call("gitaly.RepositoryService", method, { vanity_repository: repo, ...req });
    assertEquals((await call("BackupRepository", { repository: repo, backup_id: "x" })).ok, true);
    const files = [];
    for await (const f of walk(sink)) files.push(f);
    assertEquals(files.sort(), [
      "group/a.bundle",
      "group/a.refs",
      "manifests/default/group/a.git/.toml",
    ]);
    const incremental = await call("BackupRepository", {
      repository: repo,
      backup_id: "y",
      incremental: true,
    });
    assertEquals(incremental.ok ? "ok" : [incremental.codeName, incremental.message], [
      "Internal",
      "backup repository: manager: legacy layout: begin incremental: not supported",
    ]);
    const byId = await call("RestoreRepository", {
      repository: repository("b.git"),
      backup_id: "x",
    });
    assertEquals(byId.ok ? "ok" : [byId.codeName, byId.message], [
      "Internal",
      "restore repository: manager: legacy layout: find: not supported",
    ]);
    assertEquals((await call("RestoreRepository", { repository: repository("b.git") })).ok, true);
    const refs = (path: string) =>
      new Deno.Command("git", { args: ["--git-dir", path, "show-ref", "--head"], stdout: "piped" })
        .outputSync().stdout;
    assertEquals(refs(h.repoPath(repository("b.git"))), refs(h.repoPath(repo)));
  } finally {
    await h.close();
    await Deno.remove(sink, { recursive: true });
  }
});

async function* walk(dir: string, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) yield* walk(`${dir}/${entry.name}`, path);
    else yield path;
  }
}
