/**
 * `RepositorySize`: the size of a repository's directory in KiB (rounded
 * down), as Gitaly reports it.
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { directorySize } from "../shared/storage.ts";

/** Builds the handler. */
export function repositorySize(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RepositorySize"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    return { size: Math.floor((await directorySize(repoPath)) / 1024) };
  });
}
