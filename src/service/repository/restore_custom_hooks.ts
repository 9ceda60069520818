/**
 * `RestoreCustomHooks`: the deprecated name of `SetCustomHooks`, with the
 * same effect: `custom_hooks/` replaced atomically by the streamed tar.
 *
 * @module
 */
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { receiveCustomHooks } from "./custom_hooks.ts";

/** Builds the handler. */
export function restoreCustomHooks(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RestoreCustomHooks"> {
  return clientStream(async (requests, ctx) => {
    await receiveCustomHooks(deps, requests, ctx);
    return {};
  });
}
