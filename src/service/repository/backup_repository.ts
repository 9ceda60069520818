/**
 * `BackupRepository`: backs the repository up into the server-side backup
 * sink (`[backup] go_cloud_url`), under the vanity repository's paths and
 * the request's backup id: a full backup, or with `incremental` a new step
 * on top of the latest backup holding only what changed since. A backup
 * with nothing new answers FailedPrecondition with a `SkippedError` detail.
 *
 * @module
 */
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  configuredLocator,
  createBackup,
  localSource,
  managerError,
  vanityRepo,
} from "./backup_manager.ts";

const RPC = "backup repository";

/** Builds the handler. */
export function backupRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "BackupRepository"> {
  return unary(async (req, ctx) => {
    const locator = configuredLocator(deps, RPC);
    if (!req.backup_id) throw invalidArgument("empty BackupId");
    const repoPath = await deps.locator.repoPath(req.repository);
    const vanity = vanityRepo(req.vanity_repository);
    try {
      await createBackup(locator, localSource(deps, repoPath, ctx.signal), {
        vanity,
        backupId: req.backup_id,
        incremental: req.incremental,
      });
    } catch (err) {
      ctx.signal.throwIfAborted();
      throw managerError(RPC, "gitaly.BackupRepositoryResponse.SkippedError", err);
    }
    return {};
  });
}
