/**
 * `UpdateHook`: git's update hook, once per pushed ref (`ref old new`);
 * runs the custom update hooks, whose failure rejects that ref only.
 *
 * @module
 */
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { hookChainFor, runHook } from "./run_hook.ts";
import { sendingOutput } from "./output.ts";

/** Builds the handler. */
export function updateHook(deps: ServiceDeps): Rpc<"gitaly.HookService", "UpdateHook"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const output = sendingOutput(send);
    await runHook(send, output, () =>
      hookChainFor(deps).update(
        {
          repository: req.repository ?? {},
          repoPath,
          env: req.environment_variables ?? [],
          pushOptions: [],
          output,
          signal: ctx.signal,
        },
        text(req.ref ?? new Uint8Array()),
        req.old_value,
        req.new_value,
      ), { refusalsAsErrors: true });
  });
}
