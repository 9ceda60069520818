/**
 * `gitaly.ServerService`: what the server is, how its storages are, and
 * whether it is ready, and whether its clock agrees with an NTP server.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { clockSynced } from "./clock_synced.ts";
import { diskStatistics } from "./disk_statistics.ts";
import { readinessCheck } from "./readiness_check.ts";
import { serverInfo } from "./server_info.ts";

/** Builds the service's handlers. */
export function serverService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.ServerService", {
    ServerInfo: serverInfo(deps),
    DiskStatistics: diskStatistics(deps),
    ReadinessCheck: readinessCheck(deps),
    ClockSynced: clockSynced(deps),
  });
}
