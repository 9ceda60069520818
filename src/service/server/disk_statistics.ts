/**
 * `DiskStatistics`: available and used bytes of every storage's
 * filesystem (zeros where they cannot be read).
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { diskUsage } from "./storage_status.ts";

/** Builds the handler. */
export function diskStatistics(deps: ServiceDeps): Rpc<"gitaly.ServerService", "DiskStatistics"> {
  return unary(async () => {
    const storage_statuses = await Promise.all(deps.config.storages.map(async (s) => ({
      storage_name: s.name,
      ...(await diskUsage(s.path).catch(() => ({ available: 0, used: 0 }))),
    })));
    return { storage_statuses };
  });
}
