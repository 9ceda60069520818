/**
 * `RestoreRepository`: recreates the repository from a backup in the
 * server-side backup sink (the request's backup id, or the latest backup
 * of the vanity repository), every step in order: bundles fetched, custom
 * hooks restored. A backup that does not exist answers FailedPrecondition
 * with a `SkippedError` detail and leaves the repository as it was.
 *
 * @module
 */
import { wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  configuredLocator,
  localTarget,
  managerError,
  restoreBackup,
  vanityRepo,
} from "./backup_manager.ts";

const RPC = "restore repository";

/** Builds the handler. */
export function restoreRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RestoreRepository"> {
  return unary(async (req, ctx) => {
    const locator = configuredLocator(deps, RPC);
    await deps.locator.repoPath(req.repository, { allowMissing: true }).catch((err) => {
      throw wrapError(`${RPC}: repository`, err);
    });
    let vanity;
    try {
      vanity = vanityRepo(req.vanity_repository);
    } catch (err) {
      throw wrapError(`${RPC}: vanity repository`, err);
    }
    try {
      await restoreBackup(locator, localTarget(deps, req.repository!, ctx.signal), {
        vanity,
        backupId: req.backup_id,
        alwaysCreate: req.always_create,
      });
    } catch (err) {
      ctx.signal.throwIfAborted();
      throw managerError(RPC, "gitaly.RestoreRepositoryResponse.SkippedError", err);
    }
    return {};
  });
}
