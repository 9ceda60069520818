/**
 * `PostReceiveHook`: git's post-receive hook of a push. Tells GitLab the
 * push landed (`/post_receive`; its messages, such as "create a merge
 * request" links, go to the pusher on stdout) and runs the custom hooks.
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { runReceiveHook } from "./run_hook.ts";

/** Builds the handler. */
export function postReceiveHook(deps: ServiceDeps): Rpc<"gitaly.HookService", "PostReceiveHook"> {
  return bidiStream((requests, ctx, send) =>
    runReceiveHook(deps, "postReceive", requests, ctx, send)
  );
}
