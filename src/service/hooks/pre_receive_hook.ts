/**
 * `PreReceiveHook`: git's pre-receive hook of a push, forwarded by the
 * `hooks` subcommand. Asks GitLab whether the changes may land, runs the
 * custom hooks, and tells GitLab a push starts; a refusal is exit status 1
 * with the reason on stderr (`GitLab: <message>`), which git shows the
 * pusher before rejecting every ref.
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { runReceiveHook } from "./run_hook.ts";

/** Builds the handler. */
export function preReceiveHook(deps: ServiceDeps): Rpc<"gitaly.HookService", "PreReceiveHook"> {
  return bidiStream((requests, ctx, send) =>
    runReceiveHook(deps, "preReceive", requests, ctx, send)
  );
}
