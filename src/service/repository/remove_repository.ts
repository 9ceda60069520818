/**
 * `RemoveRepository`: rename away under the repository lock, then delete;
 * behind Praefect the removal is voted on (see `repository_vote.ts`).
 *
 * @module
 */
import { notFound } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { exists, removeRepositoryDir } from "../shared/storage.ts";
import { votedRemoval } from "../shared/repository_vote.ts";

/** Builds the handler. */
export function removeRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RemoveRepository"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository, { allowMissing: true });
    if (!(await exists(repoPath))) throw notFound("repository does not exist");
    await removeRepositoryDir(
      deps.locator.storagePath(req.repository!.storage_name),
      repoPath,
      votedRemoval(deps, ctx, req.repository!.relative_path),
    );
    return {};
  });
}
