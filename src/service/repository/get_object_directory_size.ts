/**
 * `GetObjectDirectorySize`: the size of a repository's `objects/` directory
 * in KiB (rounded down), as Gitaly reports it.
 *
 * @module
 */
import { join } from "node:path";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { directorySize } from "../shared/storage.ts";

/** Builds the handler. */
export function getObjectDirectorySize(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetObjectDirectorySize"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    return { size: Math.floor((await directorySize(join(repoPath, "objects"))) / 1024) };
  });
}
