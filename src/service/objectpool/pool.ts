/**
 * Object pools as Gitaly lays them out: a bare repository at
 * `@pools/ab/cd/abcd….git` holding the objects its members share through
 * their `objects/info/alternates`; its references of the primary member
 * live under `refs/remotes/origin/`.
 *
 * @module
 */
import { join, relative } from "node:path";
import type { ObjectPool } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import { isGitDirectory } from "../../server/locator.ts";
import type { ServiceDeps } from "../deps.ts";

/** Where a pool keeps its primary member's references. */
export const POOL_REF_NAMESPACE = "refs/remotes/origin";

import { isPoolPath } from "../shared/pool_path.ts";

export { isPoolPath };

/** A pool named by a request, located. */
export interface LocatedPool {
  storageName: string;
  relativePath: string;
  path: string;
}

/** The pool's repository from a request, or Gitaly's `no object pool repository`. */
export function poolRepository(pool: ObjectPool | null | undefined) {
  const repository = pool?.repository;
  if (!repository) throw invalidArgument("no object pool repository");
  return repository;
}

/**
 * Locates the request's pool; `mustExist`: it must be a valid git
 * directory (FailedPrecondition otherwise, as Gitaly answers).
 */
export async function locatePool(
  deps: ServiceDeps,
  pool: ObjectPool | null | undefined,
  mustExist = true,
): Promise<LocatedPool> {
  const repository = pool?.repository;
  if (!repository) throw invalidArgument("repository not set");
  const path = await deps.locator.repoPath(repository, { allowMissing: true });
  if (!isPoolPath(repository.relative_path)) throw invalidArgument("invalid object pool directory");
  if (mustExist && !await isGitDirectory(path)) {
    throw new GrpcError(Code.FAILED_PRECONDITION, "object pool is not a valid git repository");
  }
  return { storageName: repository.storage_name, relativePath: repository.relative_path, path };
}

/** The alternates line a member at `memberPath` needs for `pool`. */
export function alternatesEntry(memberPath: string, pool: LocatedPool): string {
  return join(relative(join(memberPath, "objects"), pool.path), "objects");
}
