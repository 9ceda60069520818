/**
 * The single way the server runs git.
 *
 * A {@link GitRunner} is built once from the server configuration and used
 * by every RPC. It adds the configured `-c` options, runs git in a clean
 * environment (see `env.ts`), puts each child in its own process group when
 * `setsid` is available (so helpers such as pack-objects die with it), and
 * tracks every child until it is reaped so shutdown can kill leftovers.
 *
 * `setsid` also starts a new session, and where the kernel schedules by
 * session (autogroups, on by default on Debian) git then competes with the
 * server for the CPU as a separate group: a streaming pipeline, in which git
 * and the server wake each other for every piece of output, ran 3× slower
 * and cost the server twice the CPU on a busy machine. Long streaming
 * commands therefore ask for a process group inside the server's session
 * (`sameSession`), made by a one-line `perl` (part of every Debian system)
 * that calls `setpgrp` and execs git; without perl they fall back to
 * `setsid`.
 *
 * @module
 */

import { childEnv, inheritedEnv } from "./env.ts";
import { type GitProcess, type GitStdin, RunningGit } from "./process.ts";
import { DEFAULT_STDERR_LIMIT } from "./stderr.ts";
import { parseGitVersionOutput } from "./version.ts";

export type { GitExit, GitProcess, GitStdin, KillReason } from "./process.ts";
export { GitKilledError } from "./process.ts";

/** One git configuration entry, passed as `-c key=value`. */
export interface GitConfigEntry {
  key: string;
  value: string;
}

/** How the runner is built (normally from config.toml). */
export interface GitRunnerOptions {
  /** Git executable; a bare name is looked up on PATH once. Default `git`. */
  binPath?: string;
  /** `[[git.config]]` entries, passed as `-c` before every command. */
  config?: GitConfigEntry[];
  /** Called with the subcommand of every spawned process (metrics). */
  onSpawn?: (subcommand: string) => void;
  /** Run each child in a new process group via `setsid` when it is on PATH. Default true. */
  processGroup?: boolean;
  /** SIGTERM → SIGKILL grace after an AbortSignal fires. Default 500 ms. */
  killGraceMs?: number;
  /** Default stderr bytes kept per process (the tail). Default 64 KiB. */
  stderrLimit?: number;
  /** Variables inherited by children. Default: the allow-list read from the server's environment. */
  inheritedEnv?: Record<string, string>;
}

/** One git invocation. */
export interface GitSpawnOptions {
  /** Repository, passed as `--git-dir=<path>`. */
  gitDir?: string;
  /** Subcommand first, then its arguments: `["upload-pack", "--stateless-rpc", "."]`. */
  args: string[];
  /** Extra `-c` entries for this call (after, so winning over, the runner's). */
  config?: GitConfigEntry[];
  /** Extra environment variables on top of the clean environment. */
  env?: Record<string, string>;
  /** Working directory; default: the server's. */
  cwd?: string;
  /** Standard input; default `"null"`. Streams are copied with backpressure and closed at their end. */
  stdin?: GitStdin;
  /** `"null"` discards stdout (no pipe to drain). Default `"piped"`. */
  stdout?: "piped" | "null";
  /** Aborting sends SIGTERM, then SIGKILL after the grace period, and errors stdout. */
  signal?: AbortSignal;
  /** Stderr bytes kept (the tail); default the runner's. */
  stderrLimit?: number;
  /** Receives each stderr chunk as it arrives; awaited, so it applies backpressure. */
  onStderr?: (chunk: Uint8Array) => void | Promise<void>;
  /**
   * Keep git's process group in the server's session (see the module
   * notes); for long streaming commands, where it costs one perl start.
   */
  sameSession?: boolean;
}

/** Makes the calling process a process group leader, then execs its arguments. */
const PERL_SETPGRP = 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV; die "exec $ARGV[0]: $!\n"';

/** Options of {@link GitRunner.run}. */
export interface GitRunOptions extends Omit<GitSpawnOptions, "stdout"> {
  /** Stdout bytes allowed before the process is killed. Default 16 MiB. */
  maxStdout?: number;
}

/** What {@link GitRunner.run} collected. */
export interface GitRunResult {
  code: number;
  signal?: Deno.Signal;
  stdout: Uint8Array;
  stderr: string;
}

/** Default cap on what {@link GitRunner.run} buffers. */
export const DEFAULT_MAX_STDOUT = 16 * 1024 * 1024;

/** A git command exited non-zero (thrown by {@link GitRunner.runOk}). */
export class GitCommandError extends Error {
  /** Arguments after the global options, subcommand first. */
  readonly args: string[];
  /** Exit code. */
  readonly code: number;
  /** Terminating signal, if any. */
  readonly signal?: Deno.Signal;
  /** Captured stderr (tail). */
  readonly stderr: string;

  /** Builds the error from the failed call. */
  constructor(args: string[], code: number, stderr: string, signal?: Deno.Signal) {
    const detail = stderr.trim().split("\n").pop() ?? "";
    super(`git ${args[0]} failed with exit code ${code}${detail ? `: ${detail}` : ""}`);
    this.name = "GitCommandError";
    this.args = args;
    this.code = code;
    this.signal = signal;
    this.stderr = stderr;
  }
}

/** {@link GitRunner.run} saw more stdout than `maxStdout` and killed git. */
export class GitOutputLimitError extends Error {
  /** Builds the error for `subcommand` and the limit it broke. */
  constructor(readonly subcommand: string, readonly limit: number) {
    super(`git ${subcommand} wrote more than ${limit} bytes to stdout`);
    this.name = "GitOutputLimitError";
  }
}

/** Spawns git processes; one instance per server. */
export class GitRunner {
  readonly binPath: string;
  readonly processGroup: boolean;
  #config: GitConfigEntry[];
  #onSpawn?: (subcommand: string) => void;
  #killGraceMs: number;
  #stderrLimit: number;
  #inheritedEnv: Record<string, string>;
  #setsid?: string;
  #perl?: string;
  #live = new Set<RunningGit>();
  #version?: Promise<string>;

  /** Builds the runner; validates the configured `-c` entries. */
  constructor(options: GitRunnerOptions = {}) {
    this.#inheritedEnv = options.inheritedEnv ?? inheritedEnv();
    const searchPath = this.#inheritedEnv.PATH ?? "";
    this.binPath = resolveExecutable(options.binPath ?? "git", searchPath);
    this.#setsid = findOnPath("setsid", searchPath);
    this.#perl = findOnPath("perl", searchPath);
    this.processGroup = (options.processGroup ?? true) && this.#setsid !== undefined;
    this.#config = (options.config ?? []).map(validateConfigEntry);
    this.#onSpawn = options.onSpawn;
    this.#killGraceMs = options.killGraceMs ?? 500;
    this.#stderrLimit = options.stderrLimit ?? DEFAULT_STDERR_LIMIT;
  }

  /** The program and arguments that start git, in a process group of its own if configured. */
  #commandLine(argv: string[], sameSession: boolean): string[] {
    if (!this.processGroup) return [this.binPath, ...argv];
    if (sameSession && this.#perl) {
      return [this.#perl, "-e", PERL_SETPGRP, "--", this.binPath, ...argv];
    }
    return [this.#setsid!, this.binPath, ...argv];
  }

  /** Starts git. The child is tracked until reaped. */
  spawn(options: GitSpawnOptions): GitProcess {
    options.signal?.throwIfAborted();
    const argv = this.#argv(options);
    const stdoutPiped = options.stdout !== "null";
    const [program, ...args] = this.#commandLine(argv, options.sameSession ?? false);
    const command = new Deno.Command(program, {
      args,
      env: childEnv(this.#inheritedEnv, options.env),
      clearEnv: true,
      cwd: options.cwd,
      stdin: "piped",
      stdout: stdoutPiped ? "piped" : "null",
      stderr: "piped",
    });
    const child = command.spawn();
    const git = new RunningGit(child, {
      subcommand: options.args[0],
      processGroup: this.processGroup,
      killGraceMs: this.#killGraceMs,
      stderrLimit: options.stderrLimit ?? this.#stderrLimit,
      stdin: options.stdin ?? "null",
      signal: options.signal,
      onStderr: options.onStderr,
    }, stdoutPiped);
    this.#track(git);
    this.#onSpawn?.(options.args[0]);
    return git;
  }

  /** Runs git to completion, buffering stdout (at most `maxStdout` bytes). */
  async run(options: GitRunOptions): Promise<GitRunResult> {
    const git = this.spawn({ ...options, stdout: "piped" }) as RunningGit;
    const limit = options.maxStdout ?? DEFAULT_MAX_STDOUT;
    let stdout: Uint8Array;
    try {
      stdout = await readAtMost(git.stdout, limit, options.args[0]);
    } catch (error) {
      // Over the limit, aborted or killed: make sure the child is gone first.
      git.killFor(error instanceof GitOutputLimitError ? "output-limit" : "kill");
      await git.wait();
      throw error;
    }
    const exit = await git.wait();
    const result: GitRunResult = { code: exit.code, stdout, stderr: exit.stderr };
    if (exit.signal) result.signal = exit.signal;
    return result;
  }

  /** Like {@link run}, but throws {@link GitCommandError} on a non-zero exit. */
  async runOk(options: GitRunOptions): Promise<GitRunResult> {
    const result = await this.run(options);
    if (result.code !== 0) {
      throw new GitCommandError(options.args, result.code, result.stderr, result.signal);
    }
    return result;
  }

  /** Runs {@link runOk} and returns stdout as text without the trailing newline. */
  async runText(options: GitRunOptions): Promise<string> {
    const { stdout } = await this.runOk(options);
    return new TextDecoder().decode(stdout).replace(/\n$/, "");
  }

  /** The git version, e.g. `2.42.0`; asked once and cached. */
  version(): Promise<string> {
    this.#version ??= this.runText({ args: ["version"] }).then(parseGitVersionOutput);
    this.#version.catch(() => {
      this.#version = undefined; // ask again next time
    });
    return this.#version;
  }

  /** Number of children spawned and not yet reaped. */
  liveCount(): number {
    return this.#live.size;
  }

  /** SIGKILLs every live child (and its group) and waits until all are reaped. */
  async killAll(): Promise<void> {
    const children = [...this.#live];
    for (const git of children) git.killFor("shutdown");
    await Promise.all(children.map((git) => git.wait()));
  }

  #argv(options: GitSpawnOptions): string[] {
    const subcommand = options.args[0];
    if (!subcommand || subcommand.startsWith("-")) {
      throw new TypeError(
        `git args must start with a subcommand, got ${JSON.stringify(subcommand)}`,
      );
    }
    const argv: string[] = [];
    if (options.gitDir !== undefined) argv.push(`--git-dir=${options.gitDir}`);
    for (const entry of this.#config) argv.push("-c", `${entry.key}=${entry.value}`);
    for (const entry of options.config ?? []) {
      validateConfigEntry(entry);
      argv.push("-c", `${entry.key}=${entry.value}`);
    }
    argv.push(...options.args);
    return argv;
  }

  #track(git: RunningGit): void {
    this.#live.add(git);
    git.wait().finally(() => this.#live.delete(git));
  }
}

/** Reads a stream to its end, failing with GitOutputLimitError past `limit` bytes. */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  subcommand: string,
): Promise<Uint8Array> {
  const reader = stream.getReader({ mode: "byob" });
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { value, done } = await reader.read(new Uint8Array(64 * 1024));
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new GitOutputLimitError(subcommand, limit);
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}

function concatBytes(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Rejects keys git would misparse on the command line. */
function validateConfigEntry(entry: GitConfigEntry): GitConfigEntry {
  if (!entry.key || /[=\0\n]/.test(entry.key) || entry.key.startsWith("-")) {
    throw new TypeError(`invalid git config key ${JSON.stringify(entry.key)}`);
  }
  if (entry.value.includes("\0")) {
    throw new TypeError(`git config value for ${entry.key} contains NUL`);
  }
  return entry;
}

/** Resolves a bare program name against `searchPath`; paths are returned unchanged. */
function resolveExecutable(name: string, searchPath: string): string {
  if (name.includes("/")) return name;
  return findOnPath(name, searchPath) ?? name;
}

function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(":")) {
    if (!dir) continue;
    const candidate = `${dir}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}
