/**
 * `GetObjectPool`: the object pool a repository borrows objects from (the
 * first line of its `objects/info/alternates`), when that is a valid pool
 * repository of the same storage; otherwise an empty answer, as Gitaly
 * gives for every failure past the repository check (Praefect calls it
 * after replicating).
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { isGitDirectory } from "../../server/locator.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { isPoolPath } from "../shared/pool_path.ts";

/** Builds the handler. */
export function getObjectPool(deps: ServiceDeps): Rpc<"gitaly.ObjectPoolService", "GetObjectPool"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const storageName = req.repository!.storage_name;
    const storagePath = deps.locator.storagePath(storageName);
    let alternates: string;
    try {
      alternates = await Deno.readTextFile(join(repoPath, "objects", "info", "alternates"));
    } catch {
      return {}; // no alternates: not a pool member
    }
    const first = alternates.split("\n")[0];
    if (first === "" || first.startsWith("#")) return {};
    const poolPath = dirname(join(repoPath, "objects", first));
    if (!await isGitDirectory(poolPath)) return {};
    const relativePath = relative(storagePath, poolPath);
    if (!isPoolPath(relativePath)) return {};
    return {
      object_pool: { repository: { storage_name: storageName, relative_path: relativePath } },
    };
  });
}
