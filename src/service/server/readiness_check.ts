/**
 * `ReadinessCheck`: ready when git runs and every storage is readable and
 * writeable; otherwise the failed checks.
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { storageAccess } from "./storage_status.ts";

/** Builds the handler. */
export function readinessCheck(deps: ServiceDeps): Rpc<"gitaly.ServerService", "ReadinessCheck"> {
  return unary(async () => {
    const failed: { name: string; error_message: string }[] = [];
    await deps.git.version().catch((err) =>
      failed.push({ name: "git", error_message: String(err) })
    );
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
  });
}
