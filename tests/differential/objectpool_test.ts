/**
 * ObjectPoolService, ours against the reference Gitaly: a pool's life
 * (create, link a fork, fetch, disconnect, delete) and bad input; after
 * each step both sides' refs agree and the member stays complete.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { differentialTest, type RepoRef, SIDES } from "./harness.ts";

const OPS = "gitaly.ObjectPoolService";
const POOL: RepoRef = {
  storage_name: "default",
  relative_path: "@pools/12/34/1234" + "a".repeat(60) + ".git",
};
const objectPool = { repository: POOL };

differentialTest("object pool lifecycle", async (h) => {
  const origin = await h.repo("rich");
  const fork = await h.repo("rich");
  await h.compare(OPS, "CreateObjectPool", { object_pool: objectPool, origin });
  await h.compareRefs(POOL);
  await h.compare(OPS, "CreateObjectPool", { object_pool: objectPool, origin });
  await h.compare(OPS, "LinkRepositoryToObjectPool", { object_pool: objectPool, repository: fork });
  await h.compare(OPS, "LinkRepositoryToObjectPool", { object_pool: objectPool, repository: fork });
  await h.compare(OPS, "GetObjectPool", { repository: fork });
  // The origin moves on; the pool follows it, pruning what the origin dropped.
  for (const side of SIDES) {
    await h.git(side, origin, ["update-ref", "-d", "refs/heads/feature/stale"]);
    await h.git(side, origin, ["update-ref", "refs/heads/new-branch", "refs/heads/main~1"]);
  }
  await h.compare(OPS, "FetchIntoObjectPool", { object_pool: objectPool, origin });
  const refs = await h.refs(POOL);
  assertEquals(
    Object.keys(refs.ours).filter((r) => !r.startsWith("refs/dangling/")),
    Object.keys(refs.reference).filter((r) => !r.startsWith("refs/dangling/")),
  );
  await h.compare(OPS, "DisconnectGitAlternates", { repository: fork });
  await h.compare(OPS, "DisconnectGitAlternates", { repository: fork });
  await h.compare(OPS, "GetObjectPool", { repository: fork });
  for (const side of SIDES) {
    await h.git(side, fork, ["rev-list", "--objects", "--all", "--quiet"]);
  }
  await h.compare(OPS, "DeleteObjectPool", { object_pool: objectPool });
  await h.compare(OPS, "DeleteObjectPool", { object_pool: objectPool });
});

differentialTest("object pools: bad input", async (h) => {
  const origin = await h.repo("rich", { shared: true });
  const notAPool = { repository: { storage_name: "default", relative_path: "pools/x.git" } };
  await h.compare(OPS, "CreateObjectPool", { object_pool: objectPool });
  await h.compare(OPS, "CreateObjectPool", { origin });
  await h.compare(OPS, "CreateObjectPool", { object_pool: notAPool, origin });
  await h.compare(OPS, "CreateObjectPool", {
    object_pool: objectPool,
    origin: { storage_name: "default", relative_path: "differential/missing.git" },
  });
  await h.compare(OPS, "LinkRepositoryToObjectPool", {
    object_pool: objectPool,
    repository: origin,
  });
  await h.compare(OPS, "LinkRepositoryToObjectPool", { object_pool: notAPool, repository: origin });
  await h.compare(OPS, "LinkRepositoryToObjectPool", { repository: origin });
  await h.compare(OPS, "FetchIntoObjectPool", { object_pool: objectPool });
  await h.compare(OPS, "FetchIntoObjectPool", { origin });
  await h.compare(OPS, "FetchIntoObjectPool", { object_pool: objectPool, origin });
  await h.compare(OPS, "FetchIntoObjectPool", {
    object_pool: { repository: { ...POOL, storage_name: "other" } },
    origin,
  });
  await h.compare(OPS, "DeleteObjectPool", { object_pool: notAPool });
  await h.compare(OPS, "DeleteObjectPool", {});
  await h.compare(OPS, "LinkRepositoryToObjectPool", { object_pool: objectPool });
  await h.compare(OPS, "DisconnectGitAlternates", { repository: origin });
  await h.compare(OPS, "DisconnectGitAlternates", {});
});
