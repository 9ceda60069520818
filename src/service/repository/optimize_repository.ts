/**
 * `OptimizeRepository`: housekeeping as Gitaly 16.7 does it, with the
 * request's strategy (heuristical by default, or eager); see
 * src/service/shared/housekeeping/.
 *
 * @module
 */
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { HousekeepingManager } from "../shared/housekeeping/manager.ts";
import type { StrategyName } from "../shared/housekeeping/strategy.ts";
import { isPoolPath } from "../shared/pool_path.ts";

const STRATEGIES: Record<number, StrategyName> = { 0: "heuristical", 1: "heuristical", 2: "eager" };

const managers = new WeakMap<ServiceDeps, HousekeepingManager>();

/** The deps' housekeeping manager (one per deps when none was given). */
export function housekeepingOf(deps: ServiceDeps): HousekeepingManager {
  if (deps.housekeeping) return deps.housekeeping;
  let manager = managers.get(deps);
  if (!manager) managers.set(deps, manager = new HousekeepingManager(deps.git, deps.logger));
  return manager;
}

/** Builds the handler. */
export function optimizeRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "OptimizeRepository"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const strategy = STRATEGIES[Number(req.strategy ?? 0)];
    if (!strategy) throw invalidArgument(`unsupported optimization strategy ${req.strategy}`);
    const repository = req.repository!;
    try {
      await housekeepingOf(deps).optimize(
        { repoPath, isObjectPool: isPoolPath(repository.relative_path) },
        {
          strategy,
          signal: ctx.signal,
          logFields: {
            "grpc.request.repoStorage": repository.storage_name,
            "grpc.request.repoPath": repository.relative_path,
          },
        },
      );
    } catch (err) {
      throw wrapError("optimizing repository", err);
    }
    return {};
  });
}
