/**
 * `SetCustomHooks`: replaces a repository's `custom_hooks/` by the one in the
 * tar archive the client streams (an empty stream removes them), atomically.
 *
 * @module
 */
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { receiveCustomHooks } from "./custom_hooks.ts";

/** Builds the handler. */
export function setCustomHooks(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "SetCustomHooks"> {
  return clientStream(async (requests, ctx) => {
    await receiveCustomHooks(deps, requests, ctx);
    return {};
  });
}
