/**
 * What the hook RPCs share: the server's {@link HookChain} and how a
 * refusal becomes the hook's exit status and stderr.
 *
 * @module
 */
import type { PreReceiveHookRequest } from "../../proto/types.ts";
import { internal } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { HookChain, HookFailure, type HookOutput } from "./chain.ts";
import { readStdin, sendingOutput } from "./output.ts";

const chains = new WeakMap<ServiceDeps, HookChain>();

/** The hook chain of one server (one per {@link ServiceDeps}). */
export function hookChainFor(deps: ServiceDeps): HookChain {
  let chain = chains.get(deps);
  if (!chain) {
    chain = new HookChain(deps, deps.gitlab);
    chains.set(deps, chain);
  }
  return chain;
}

/** How a hook ended: the exit status git sees and the message for its stderr. */
export interface HookExit {
  code: number;
  /** A refusal's reason (may be empty). */
  message: string;
}

/**
 * Runs one hook: 0, a failing custom hook's own code, or 1 with the
 * refusal's message; with `refusalsAsErrors` (the update hook) a refusal
 * other than a custom hook's throws Internal instead. Other errors throw.
 */
export async function settleHook(
  hook: () => Promise<void>,
  options: { refusalsAsErrors?: boolean } = {},
): Promise<HookExit> {
  try {
    await hook();
    return { code: 0, message: "" };
  } catch (error) {
    if (!(error instanceof HookFailure)) throw error;
    if (options.refusalsAsErrors && !error.fromCustomHook) throw internal(error.message);
    return { code: error.exitCode, message: error.message };
  }
}

/**
 * Runs one hook ({@link settleHook}) and sends its exit status, with a
 * refusal's message on stderr in the same message, as Gitaly sends it.
 */
export async function runHook(
  send: (response: { exit_status: { value: number }; stderr?: Uint8Array }) => Promise<void>,
  output: HookOutput,
  hook: () => Promise<void>,
  options: { refusalsAsErrors?: boolean } = {},
): Promise<void> {
  const { code, message } = await settleHook(hook, options);
  await output.stdout(new Uint8Array()); // wait for queued output
  await send({
    exit_status: { value: code },
    ...(message ? { stderr: new TextEncoder().encode(message) } : {}),
  });
}

/**
 * The body of `PreReceiveHook` and `PostReceiveHook` (their messages have
 * the same fields): the changes from stdin, then `stage` of the chain.
 */
export async function runReceiveHook(
  deps: ServiceDeps,
  stage: "preReceive" | "postReceive",
  requests: AsyncIterable<PreReceiveHookRequest>,
  ctx: CallContext,
  send: (
    response: { stdout?: Uint8Array; stderr?: Uint8Array; exit_status?: { value: number } },
  ) => Promise<void>,
): Promise<void> {
  const { first, rest } = await firstRequest(requests);
  const repoPath = await deps.locator.repoPath(first.repository);
  const output = sendingOutput(send);
  await runHook(send, output, async () => {
    const changes = new Uint8Array([...first.stdin ?? [], ...await readStdin(rest)]);
    await hookChainFor(deps)[stage]({
      repository: first.repository ?? {},
      repoPath,
      env: first.environment_variables ?? [],
      pushOptions: first.git_push_options ?? [],
      output,
      signal: ctx.signal,
    }, changes);
  });
}
