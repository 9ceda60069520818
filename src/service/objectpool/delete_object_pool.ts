/**
 * `DeleteObjectPool`: removes a pool repository (a missing one is not an
 * error, as in Gitaly). Members are not touched: disconnect them first.
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { removeRepositoryDir } from "../shared/storage.ts";
import { votedRemoval } from "../shared/repository_vote.ts";
import { locatePool } from "./pool.ts";
import { isGitDirectory } from "../../server/locator.ts";

/** Builds the handler. */
export function deleteObjectPool(
  deps: ServiceDeps,
): Rpc<"gitaly.ObjectPoolService", "DeleteObjectPool"> {
  return unary(async (req, ctx) => {
    const pool = await locatePool(deps, req.object_pool, false);
    if (!await isGitDirectory(pool.path)) return {};
    await removeRepositoryDir(
      deps.locator.storagePath(pool.storageName),
      pool.path,
      votedRemoval(deps, ctx, pool.relativePath),
    );
    return {};
  });
}
