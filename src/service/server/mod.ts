/**
 * `gitaly.ServerService`: what the server is, how its storages are, and
 * whether it is ready. `ClockSynced` needs an NTP server, which we never
 * query (no network), so it answers `Unimplemented` rather than guess.
 *
 * @module
 */
import type {
  DiskStatisticsRequest,
  DiskStatisticsResponse,
  Init,
  ReadinessCheckRequest,
  ReadinessCheckResponse,
  ServerInfoRequest,
  ServerInfoResponse,
} from "../../proto/types.ts";
import { internal } from "../../server/errors.ts";
import { type ServiceImplementation, unary } from "../../server/rpc.ts";
import { SERVER_VERSION } from "../../version.ts";
import type { ServiceDeps } from "../deps.ts";
import { diskUsage, filesystemId, filesystemType, storageAccess } from "./storage_status.ts";

/** Builds the service's handlers. */
export function serverService(deps: ServiceDeps): ServiceImplementation {
  return {
    service: "gitaly.ServerService",
    handlers: {
      ServerInfo: unary<ServerInfoRequest, Init<ServerInfoResponse>>(() => serverInfo(deps)),
      DiskStatistics: unary<DiskStatisticsRequest, Init<DiskStatisticsResponse>>(() =>
        diskStatistics(deps)
      ),
      ReadinessCheck: unary<ReadinessCheckRequest, Init<ReadinessCheckResponse>>(() =>
        readiness(deps)
      ),
    },
  };
}

async function serverInfo(deps: ServiceDeps): Promise<Init<ServerInfoResponse>> {
  const gitVersion = await deps.git.version().catch((err) => {
    throw internal(`git version: ${(err as Error).message}`);
  });
  const storage_statuses = await Promise.all(deps.config.storages.map(async (s) => ({
    storage_name: s.name,
    ...(await storageAccess(s.path)),
    fs_type: await filesystemType(s.path),
    filesystem_id: await filesystemId(s.path).catch(() => ""),
    replication_factor: 1,
  })));
  return { server_version: SERVER_VERSION, git_version: gitVersion, storage_statuses };
}

async function diskStatistics(deps: ServiceDeps): Promise<Init<DiskStatisticsResponse>> {
  const storage_statuses = await Promise.all(deps.config.storages.map(async (s) => ({
    storage_name: s.name,
    ...(await diskUsage(s.path).catch(() => ({ available: 0, used: 0 }))),
  })));
  return { storage_statuses };
}

/** Ready when git runs and every storage is readable and writeable. */
async function readiness(deps: ServiceDeps): Promise<Init<ReadinessCheckResponse>> {
  const failed: { name: string; error_message: string }[] = [];
  await deps.git.version().catch((err) => failed.push({ name: "git", error_message: String(err) }));
  for (const s of deps.config.storages) {
    const access = await storageAccess(s.path);
    if (!access.readable || !access.writeable) {
      failed.push({
        name: `storage ${s.name}`,
        error_message: `readable=${access.readable} writeable=${access.writeable}`,
      });
    }
  }
  return failed.length ? { failure_response: { failed_checks: failed } } : { ok_response: {} };
}
