/**
 * `PruneUnreachableObjects`: deletes objects no ref reaches that have not
 * been touched for 30 minutes (the grace period keeps objects a concurrent
 * push has written but not yet referenced): `git prune` for loose ones, a
 * full repack with a cruft pack for packed ones, then a fresh commit-graph
 * chain. Object pools are refused (`InvalidArgument`, as Gitaly does):
 * their members may need any of their objects.
 *
 * @module
 */
import { join } from "node:path";
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { isPoolPath } from "../shared/pool_path.ts";
import { pruneObjects, repackFullWithCruft, writeCommitGraph } from "../shared/housekeeping.ts";
import { exists } from "../shared/storage.ts";

/** How long an unreachable object is kept after it was last written. */
const GRACE_PERIOD_MS = 30 * 60 * 1000;

/** Builds the handler. */
export function pruneUnreachableObjects(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "PruneUnreachableObjects"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (isPoolPath(req.repository!.relative_path)) {
      throw invalidArgument("pruning objects for object pool");
    }
    const expireBefore = new Date(Date.now() - GRACE_PERIOD_MS);
    const signal = ctx.signal;
    try {
      await pruneObjects(deps, repoPath, expireBefore, signal);
    } catch (err) {
      throw wrapError("pruning objects", err);
    }
    const alternates = await exists(join(repoPath, "objects", "info", "alternates"));
    try {
      await repackFullWithCruft(deps, repoPath, {
        expireBefore,
        multiPackIndex: true,
        bitmap: !alternates,
        pool: false,
        signal,
      });
    } catch (err) {
      throw wrapError("repacking objects", err);
    }
    try {
      await writeCommitGraph(deps, repoPath, { replaceChain: true, signal });
    } catch (err) {
      throw wrapError("rewriting commit-graph", err);
    }
    return {};
  });
}
