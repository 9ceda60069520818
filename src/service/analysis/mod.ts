/**
 * `gitaly.AnalysisService`: questions about blobs' content.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { checkBlobsGenerated } from "./check_blobs_generated.ts";

/** Builds the service's handlers. */
export function analysisService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.AnalysisService", {
    CheckBlobsGenerated: checkBlobsGenerated(deps),
  });
}
