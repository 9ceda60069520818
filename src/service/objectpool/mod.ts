/**
 * `gitaly.ObjectPoolService`: object pools shared by forks. Only the
 * lookup Praefect needs is built so far.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { getObjectPool } from "./get_object_pool.ts";

/** Builds the service's handlers. */
export function objectPoolService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.ObjectPoolService", {
    GetObjectPool: getObjectPool(deps),
  });
}
