/**
 * Running `git receive-pack` for a push: Gitaly's configuration, the
 * request's config and protocol, and the hook chain: git runs the server's
 * hook scripts (`core.hooksPath`), which call back into the HookService
 * with the pusher, repository and Praefect transaction from
 * `GITALY_HOOKS_PAYLOAD`. Shared by SSHReceivePack and PostReceivePack.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import type { Repository } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  encodeHooksPayload,
  HOOKS_PAYLOAD_ENV,
  RECEIVE_PACK_HOOKS,
  serverHooksPayload,
} from "../hooks/payload.ts";
import { Code, failedPrecondition, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import { gitProtocolEnv, parseGitConfigOptions, receivePackConfig } from "./git_options.ts";
import { type GitOutputSinks, runStreamed, type StreamedExit } from "./git_stream.ts";
import {
  type Transaction,
  transactionFromContext,
  TransactionStoppedError,
  voteOnContext,
  type VotingContext,
  ZERO_VOTE,
} from "./transaction.ts";

/** What one push needs. */
export interface ReceivePackOptions {
  /** Absolute path of the repository (from the locator). */
  repoPath: string;
  /** The request's repository (its `gl_repository` and `gl_project_path` reach the hooks and GitLab). */
  repository: Partial<Repository> | null | undefined;
  glId: string;
  glUsername?: string;
  /** The request's own `gl_repository`, used when the repository message has none. */
  glRepository?: string;
  /** `GL_PROTOCOL`. */
  protocol: "ssh" | "http";
  /** The request's `git_protocol`, e.g. `version=2`. */
  gitProtocol?: string;
  /** Validated `-c` entries from the request. */
  config?: GitConfigEntry[];
  /** `--stateless-rpc` for Smart HTTP. */
  statelessRpc?: boolean;
  /** The pushed commands and pack. */
  stdin: ReadableStream<Uint8Array>;
  /** Aborting kills git; receive-pack then leaves every ref as it was. */
  signal: AbortSignal;
  /** The Praefect transaction the reference-transaction hook votes on. */
  transaction?: Transaction | null;
}

/** Runs `git receive-pack` with the hook chain; resolves with its exit, whatever the code. */
export async function runReceivePack(
  deps: ServiceDeps,
  options: ReceivePackOptions,
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  const runtime = deps.hooks;
  if (!runtime) throw failedPrecondition("pushes need the server's hooks runtime");
  await runtime.prepare();
  // As with Gitaly, the hooks take gl_repository from the repository message only.
  const repository = { ...options.repository };
  const payload = encodeHooksPayload(serverHooksPayload(runtime, deps.config.auth.token, {
    requestedHooks: RECEIVE_PACK_HOOKS,
    transaction: options.transaction ?? null,
    userDetails: {
      username: options.glUsername ?? "",
      userid: options.glId,
      protocol: options.protocol,
    },
    repository,
  }));
  return await runStreamed(deps.git, {
    gitDir: options.repoPath,
    args: [
      "receive-pack",
      ...(options.statelessRpc ? ["--stateless-rpc"] : []),
      options.repoPath,
    ],
    // Our hooks path goes last so no request can point git at other hooks.
    config: [
      ...receivePackConfig(),
      ...(options.config ?? []),
      { key: "core.hooksPath", value: runtime.hooksDir },
    ],
    env: { ...gitProtocolEnv(options.gitProtocol), [HOOKS_PAYLOAD_ENV]: payload },
    stdin: options.stdin,
    signal: options.signal,
  }, sinks);
}

/** The fields the first message of SSHReceivePack and PostReceivePack share. */
export interface ReceivePackRequestHeader {
  repository?: Partial<Repository> | null;
  gl_id: string;
  gl_username: string;
  gl_repository: string;
  git_protocol: string;
  git_config_options: string[];
}

/**
 * Validates a push's first message (pusher, repository, config options)
 * and runs receive-pack for it: the part SSH and Smart HTTP share.
 */
export async function receivePackForRequest(
  deps: ServiceDeps,
  header: ReceivePackRequestHeader,
  ctx: CallContext,
  options: Pick<ReceivePackOptions, "protocol" | "statelessRpc" | "stdin">,
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  if (!header.gl_id) throw invalidArgument("empty GlId");
  const repoPath = await deps.locator.repoPath(header.repository);
  const config = parseGitConfigOptions(header.git_config_options);
  const transaction = transactionFromContext(ctx);
  ctx.logFields["gl_id"] = header.gl_id;
  return await runReceivePack(deps, {
    ...options,
    repoPath,
    repository: header.repository,
    glId: header.gl_id,
    glUsername: header.gl_username,
    glRepository: header.gl_repository,
    gitProtocol: header.git_protocol,
    config,
    signal: ctx.signal,
    transaction,
  }, sinks);
}

/**
 * The vote that concludes a push that git finished (Gitaly's final vote):
 * the zero vote in the committed phase, so that a push whose every update
 * git rejected still votes once and voters that diverged fail here. A
 * transaction a hook stopped is no error (git already reported the
 * refusal); any other failure is Aborted `final transactional vote: …`.
 */
export async function concludePush(
  deps: ServiceDeps,
  ctx: VotingContext,
): Promise<void> {
  try {
    await voteOnContext(deps, ctx, ZERO_VOTE, "committed");
  } catch (error) {
    if (error instanceof TransactionStoppedError) return;
    throw new GrpcError(Code.ABORTED, `final transactional vote: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Runs `git receive-pack --advertise-refs` (hooks disabled: nothing is pushed yet). */
export function advertiseReceivePack(
  deps: ServiceDeps,
  options: {
    repoPath: string;
    gitProtocol?: string;
    config?: GitConfigEntry[];
    signal: AbortSignal;
  },
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  return runStreamed(deps.git, {
    gitDir: options.repoPath,
    args: ["receive-pack", "--stateless-rpc", "--advertise-refs", options.repoPath],
    config: [...receivePackConfig(), ...(options.config ?? [])],
    env: gitProtocolEnv(options.gitProtocol),
    signal: options.signal,
  }, sinks);
}
