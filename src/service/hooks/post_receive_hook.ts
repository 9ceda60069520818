/**
 * `PostReceiveHook`: git's post-receive hook of a push. Tells GitLab the
 * push landed (`/post_receive`; its messages, such as "create a merge
 * request" links, go to the pusher on stdout) and runs the custom hooks.
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { hookChainFor, runHook } from "./run_hook.ts";
import { readStdin, sendingOutput } from "./output.ts";

/** Builds the handler. */
export function postReceiveHook(deps: ServiceDeps): Rpc<"gitaly.HookService", "PostReceiveHook"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    const output = sendingOutput(send);
    await runHook(send, output, async () => {
      const changes = new Uint8Array([...first.stdin ?? [], ...await readStdin(rest)]);
      await hookChainFor(deps).postReceive({
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
