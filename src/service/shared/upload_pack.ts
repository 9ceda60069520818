/**
 * Running `git upload-pack` (and its sibling `git upload-archive`) for a
 * client: the one place that knows the command line, configuration and
 * error wording, so SSHUploadPack, the Smart HTTP RPCs and a later
 * sidechannel variant only differ in where the bytes come from and go.
 *
 * @module
 */
import type { GitConfigEntry, GitRunner } from "../../git/command.ts";
import { Code, GrpcError } from "../../server/errors.ts";
import { gitProtocolEnv, goQuote, uploadPackConfig } from "./git_options.ts";
import { describeExit, type GitOutputSinks, runStreamed, type StreamedExit } from "./git_stream.ts";

/**
 * Read size of git's stdout when it goes to a sidechannel: it is read
 * into one reused buffer and handed over as views, since the sidechannel
 * copies (or frames) every chunk anyway; as large as the stdout pipe, so
 * one read takes all that git wrote meanwhile.
 */
export const SIDECHANNEL_READ_SIZE = 256 * 1024;

/** What one upload-pack run needs. */
export interface UploadPackOptions {
  /** Absolute path of the repository (from the locator). */
  repoPath: string;
  /** Validated `-c` entries from the request (see `parseGitConfigOptions`). */
  config?: GitConfigEntry[];
  /** The request's `git_protocol`, e.g. `version=2`. */
  gitProtocol?: string;
  /** `--stateless-rpc` (Smart HTTP and sidechannel POSTs); SSH sessions leave it off. */
  statelessRpc?: boolean;
  /** `--advertise-refs`: print the advertisement and exit (Smart HTTP info/refs). */
  advertiseRefs?: boolean;
  /** Git's standard input; omitted means none. */
  stdin?: ReadableStream<Uint8Array>;
  /** Aborting kills git (client gone, deadline, shutdown). */
  signal: AbortSignal;
  /** Config and environment that route pack-objects through the pack-objects hook. */
  packObjectsHook?: { config: GitConfigEntry[]; env: Record<string, string> };
}

/**
 * Runs `git upload-pack` for one client, wiring `stdin` in and git's
 * output into `sinks`. Resolves with the exit, whatever the code; callers
 * turn a failure into their RPC's error with {@link uploadCommandError}.
 */
export function runUploadPack(
  git: GitRunner,
  options: UploadPackOptions,
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  const flags = [
    ...(options.statelessRpc ? ["--stateless-rpc"] : []),
    ...(options.advertiseRefs ? ["--advertise-refs"] : []),
  ];
  return runStreamed(git, {
    gitDir: options.repoPath,
    args: ["upload-pack", ...flags, options.repoPath],
    // The hook goes last: no request can point git at another program.
    config: [
      ...uploadPackConfig(),
      ...(options.config ?? []),
      ...(options.packObjectsHook?.config ?? []),
    ],
    env: { ...gitProtocolEnv(options.gitProtocol), ...options.packObjectsHook?.env },
    stdin: options.stdin ?? "null",
    signal: options.signal,
  }, sinks);
}

/** What one upload-archive run needs. */
export interface UploadArchiveOptions {
  repoPath: string;
  stdin: ReadableStream<Uint8Array>;
  signal: AbortSignal;
}

/** Runs `git upload-archive` for one client (the server side of `git archive --remote`). */
export function runUploadArchive(
  git: GitRunner,
  options: UploadArchiveOptions,
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  return runStreamed(git, {
    gitDir: options.repoPath,
    args: ["upload-archive", options.repoPath],
    stdin: options.stdin,
    signal: options.signal,
  }, sinks);
}

/** What git prints when its client went away mid-conversation. */
export const CLIENT_HUNG_UP = "fatal: the remote end hung up unexpectedly\n";

/**
 * The error for a failed upload command, worded as Gitaly words it:
 * `Canceled` when the client hung up, otherwise
 * `cmd wait: exit status N, stderr: "…"`. `prefix` is prepended
 * (`running upload-pack: `). `status` is the exit status Gitaly reports
 * alongside (0 for a hang-up, which it cannot attribute to git).
 */
export function uploadCommandError(
  exit: StreamedExit,
  prefix: string,
): { error: GrpcError; status: number } {
  if (exit.stderr === CLIENT_HUNG_UP) {
    return {
      error: new GrpcError(Code.CANCELLED, `${prefix}user canceled the request`),
      status: 0,
    };
  }
  const message = `${prefix}cmd wait: ${describeExit(exit)}, stderr: ${goQuote(exit.stderr)}`;
  return { error: new GrpcError(Code.INTERNAL, message), status: exit.code };
}
