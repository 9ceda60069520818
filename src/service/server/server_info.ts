/**
 * `ServerInfo`: the server's and git's versions, and per storage whether
 * it is readable and writeable, its filesystem type and id.
 *
 * @module
 */
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import { SERVER_VERSION } from "../../version.ts";
import type { ServiceDeps } from "../deps.ts";
import { filesystemId, filesystemType, storageAccess } from "./storage_status.ts";

/** Builds the handler. */
export function serverInfo(deps: ServiceDeps): Rpc<"gitaly.ServerService", "ServerInfo"> {
  return unary(async () => {
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
  });
}
