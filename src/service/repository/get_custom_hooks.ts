/**
 * `GetCustomHooks`: a repository's `custom_hooks/` as a tar archive,
 * streamed in chunks (no message at all when it has none).
 *
 * @module
 */
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sendCustomHooks } from "./custom_hooks.ts";

/** Builds the handler. */
export function getCustomHooks(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetCustomHooks"> {
  return serverStream((req, ctx, send) =>
    sendCustomHooks(deps, req.repository, ctx.signal, (data) => send({ data }))
  );
}
