/**
 * `gitaly.CleanupService`: clean-up after a history rewrite.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { applyBfgObjectMapStream } from "./apply_bfg_object_map_stream.ts";

/** Builds the service's handlers. */
export function cleanupService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.CleanupService", {
    ApplyBfgObjectMapStream: applyBfgObjectMapStream(deps),
  });
}
