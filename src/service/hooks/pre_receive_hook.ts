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
import { firstRequest } from "../shared/git_stream.ts";
import { hookChainFor, runHook } from "./run_hook.ts";
import { readStdin, sendingOutput } from "./output.ts";

/** Builds the handler. */
export function preReceiveHook(deps: ServiceDeps): Rpc<"gitaly.HookService", "PreReceiveHook"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    const output = sendingOutput(send);
    await runHook(send, output, async () => {
      const changes = new Uint8Array([...first.stdin ?? [], ...await readStdin(rest)]);
      await hookChainFor(deps).preReceive({
        repository: first.repository ?? {},
        repoPath,
        env: first.environment_variables ?? [],
        pushOptions: first.git_push_options ?? [],
        output,
        signal: ctx.signal,
      }, changes);
    });
  });
}
