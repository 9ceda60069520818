/**
 * `BackupCustomHooks`: the deprecated name of `GetCustomHooks`, with the
 * same answer: a repository's `custom_hooks/` as a tar archive.
 *
 * @module
 */
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sendCustomHooks } from "./custom_hooks.ts";

/** Builds the handler. */
export function backupCustomHooks(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "BackupCustomHooks"> {
  return serverStream((req, ctx, send) =>
    sendCustomHooks(deps, req.repository, ctx.signal, (data) => send({ data }))
  );
}
