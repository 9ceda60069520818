/**
 * `RepositoryExists`: whether a valid git directory is at the given path.
 *
 * @module
 */
import { GrpcError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function repositoryExists(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RepositoryExists"> {
  return unary(async (req) => {
    await deps.locator.repoPath(req.repository, { allowMissing: true });
    try {
      await deps.locator.repoPath(req.repository);
      return { exists: true };
    } catch (err) {
      if (err instanceof GrpcError) return { exists: false };
      throw err;
    }
  });
}
