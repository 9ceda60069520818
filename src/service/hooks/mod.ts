/**
 * `gitaly.HookService`: the server side of the hooks git runs during a
 * push. Every `git receive-pack` runs with `core.hooksPath` pointing at
 * the server's runtime directory, whose Perl scripts forward each hook to
 * the server's hook socket ({@link HookSocket}), which does in-process
 * what these RPCs do. Without Perl, or without that socket, the scripts
 * run our `hooks` subcommand, which reads `GITALY_HOOKS_PAYLOAD` and calls
 * these RPCs over the internal socket. During fetches, with the
 * pack-objects cache on, git's `uploadpack.packObjectsHook` runs the same
 * hook, which ends in `PackObjectsHookWithSidechannel` or its in-process
 * twin.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { packObjectsHookWithSidechannel } from "./pack_objects_hook_with_sidechannel.ts";
import { postReceiveHook } from "./post_receive_hook.ts";
import { preReceiveHook } from "./pre_receive_hook.ts";
import { referenceTransactionHook } from "./reference_transaction_hook.ts";
import { updateHook } from "./update_hook.ts";

export { HookSocket } from "./hook_socket.ts";
export { HooksRuntime } from "./runtime.ts";

/** Builds the service's handlers. */
export function hookService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.HookService", {
    PreReceiveHook: preReceiveHook(deps),
    PostReceiveHook: postReceiveHook(deps),
    UpdateHook: updateHook(deps),
    ReferenceTransactionHook: referenceTransactionHook(deps),
    PackObjectsHookWithSidechannel: packObjectsHookWithSidechannel(deps),
  });
}
