/**
 * `gitaly.ServerService`: what the server is, how its storages are, and
 * whether it is ready. `ClockSynced` needs an NTP server, which we never
 * query (no network), so it answers `Unimplemented` rather than guess.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { diskStatistics } from "./disk_statistics.ts";
import { readinessCheck } from "./readiness_check.ts";
import { serverInfo } from "./server_info.ts";

/** Builds the service's handlers. */
export function serverService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.ServerService", {
    ServerInfo: serverInfo(deps),
    DiskStatistics: diskStatistics(deps),
    ReadinessCheck: readinessCheck(deps),
  });
}
