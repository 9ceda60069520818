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
import { isPseudoRevision } from "./revision.ts";
import { type GitProcess, type GitStdin, RunningGit } from "./process.ts";
import { SpawnLimit, type SpawnLimitObserver } from "./spawn_limit.ts";
import { DEFAULT_STDERR_LIMIT } from "./stderr.ts";
import { parseGitVersionOutput } from "./version.ts";

export type { GitExit, GitProcess, GitStdin, KillReason } from "./process.ts";
export { GitKilledError } from "./process.ts";
export { SpawnTimeoutError } from "./spawn_limit.ts";

/**
 * One git command line, described so that what a user supplied can never be
 * read as an option: `flags` are ours and start with `-`; `args` are
 * positional (revisions, ref names) and may not start with `-`;
 * `postSepArgs` come after `--` (paths, or revisions where git allows it).
 */
export interface GitCommand {
  /** The subcommand, e.g. `for-each-ref`. */
  name: string;
  /** Options, each starting with `-` (e.g. `--format=%(refname)`). */
  flags?: string[];
  /** Positional arguments; none may start with `-`. */
  args?: string[];
  /**
   * Revisions for commands that walk history (`rev-list`, `log`), after
   * `args` and in order: none may start with `-` except rev-list's pseudo
   * revisions (`--all`, `--not`, `--branches[=…]`, `--tags[=…]`,
   * `--glob=…`, `--alternate-refs`).
   */
  revisions?: string[];
  /** Arguments after `--`. */
  postSepArgs?: string[];
}

/** A positional argument that git would read as an option; answered as `InvalidArgument`. */
export class GitArgumentError extends Error {
  /** gRPC code this error maps to at the boundary (`InvalidArgument`). */
  readonly grpcCode = 3;

  /** Builds the error for `arg`. */
  constructor(arg: string, why: string) {
    super(`positional argument ${JSON.stringify(arg)} ${why}`);
    this.name = "GitArgumentError";
  }
}

/** The argument list (subcommand first) of `command`; throws when it is unsafe. */
export function commandArgs(command: GitCommand): string[] {
  if (!/^[a-z][a-z0-9-]*$/.test(command.name)) {
    throw new TypeError(`invalid git subcommand ${JSON.stringify(command.name)}`);
  }
  for (const flag of command.flags ?? []) {
    if (!flag.startsWith("-")) {
      throw new TypeError(`git flag ${JSON.stringify(flag)} must start with '-'`);
    }
  }
  for (const arg of command.args ?? []) {
    if (arg.startsWith("-")) throw new GitArgumentError(arg, "can't start with '-'");
  }
  for (const revision of command.revisions ?? []) {
    if (revision.startsWith("-") && !isPseudoRevision(revision)) {
      throw new GitArgumentError(revision, "can't start with '-'");
    }
  }
  const positional = [...command.args ?? [], ...command.revisions ?? []];
  const all = [...command.flags ?? [], ...positional, ...command.postSepArgs ?? []];
  for (const arg of all) {
    if (arg.includes("\0")) throw new GitArgumentError(arg, "can't contain NUL");
  }
  const argv = [command.name, ...command.flags ?? [], ...positional];
  if (command.postSepArgs !== undefined) argv.push("--", ...command.postSepArgs);
  return argv;
}

/** One git configuration entry, passed as `-c key=value`. */
export interface GitConfigEntry {
  key: string;
  value: string;
}

/**
 * Configuration every git command gets before the operator's `[[git.config]]`
 * (which may override it), as Gitaly does: new repositories start on `main`
 * whatever the machine's git would pick.
 */
export const BUILTIN_GIT_CONFIG: readonly GitConfigEntry[] = Object.freeze([
  { key: "init.defaultBranch", value: "main" },
]);

/** How the runner is built (normally from config.toml). */
export interface GitRunnerOptions {
  /** Git executable; a bare name is looked up on PATH once. Default `git`. */
  binPath?: string;
  /**
   * `[[git.config]]` entries, passed as `-c` before every command, after
   * {@link BUILTIN_GIT_CONFIG}.
   */
  config?: GitConfigEntry[];
  /** Called with the subcommand of every spawned process (metrics). */
  onSpawn?: (subcommand: string) => void;
  /**
   * Called once a process is reaped, with its subcommand and wall-clock
   * seconds (metrics); it runs in the async context that spawned it.
   */
  onExit?: (subcommand: string, seconds: number) => void;
  /** Run each child in a new process group via `setsid` when it is on PATH. Default true. */
  processGroup?: boolean;
  /** SIGTERM → SIGKILL grace after an AbortSignal fires. Default 500 ms. */
  killGraceMs?: number;
  /** Default stderr bytes kept per process (the tail). Default 64 KiB. */
  stderrLimit?: number;
  /** Variables inherited by children. Default: the allow-list read from the server's environment. */
  inheritedEnv?: Record<string, string>;
  /** Most git processes started with {@link GitRunner.start} running at once. Default 512. */
  maxProcesses?: number;
  /** How long {@link GitRunner.start} waits for a free slot. Default 10 s. */
  spawnTimeoutMs?: number;
  /** Observers of the spawn queue (metrics). */
  spawnObserver?: SpawnLimitObserver;
}

/** One git invocation. */
export interface GitSpawnOptions {
  /**
   * Ignore the repository's shallow file (`--shallow-file ""`), as
   * upload-pack runs pack-objects for a shallow fetch.
   */
  emptyShallowFile?: boolean;
  /** Repository, passed as `--git-dir=<path>`. */
  gitDir?: string;
  /**
   * The command, described; prefer it whenever an argument comes from a
   * request. Exactly one of `command` and `args` is given.
   */
  command?: GitCommand;
  /** Subcommand first, then its arguments: `["upload-pack", "--stateless-rpc", "."]`. */
  args?: string[];
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

  /** The command, its exit status and its stderr tail, for the call's log line. */
  logFields(): Record<string, string> {
    return {
      "git.command": this.args.join(" "),
      "git.exit_code": String(this.code),
      "git.stderr": this.stderr.slice(-2048),
    };
  }

  /** Builds the error from the failed call. */
  constructor(args: string[], code: number, stderr: string, signal?: Deno.Signal) {
    // The last `fatal:`/`error:` line says what went wrong; advice may follow it.
    const lines = stderr.trim().split("\n");
    const detail = lines.findLast((line) => /^(fatal|error): /.test(line)) ?? lines.pop() ?? "";
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

/**
 * Subcommands that run no other program (no pack-objects, no remote
 * helper, no hook), so they need no process group of their own to be
 * killed completely.
 */
const CHILDLESS_SUBCOMMANDS = new Set([
  "cat-file",
  "check-attr",
  "check-ref-format",
  "count-objects",
  "for-each-ref",
  "ls-tree",
  "merge-base",
  "patch-id",
  "read-tree",
  "rev-list",
  "rev-parse",
  "show-ref",
  "symbolic-ref",
  "version",
]);

/** Spawns git processes; one instance per server. */
export class GitRunner {
  readonly binPath: string;
  readonly processGroup: boolean;
  #config: GitConfigEntry[];
  #onSpawn?: (subcommand: string) => void;
  #onExit?: (subcommand: string, seconds: number) => void;
  #killGraceMs: number;
  #stderrLimit: number;
  #inheritedEnv: Record<string, string>;
  #setsid?: string;
  #perl?: string;
  #live = new Set<RunningGit>();
  #version?: Promise<string>;
  #limit: SpawnLimit;

  /** Builds the runner; validates the configured `-c` entries. */
  constructor(options: GitRunnerOptions = {}) {
    this.#inheritedEnv = options.inheritedEnv ?? inheritedEnv();
    const searchPath = this.#inheritedEnv.PATH ?? "";
    this.binPath = resolveExecutable(options.binPath ?? "git", searchPath);
    this.#setsid = findOnPath("setsid", searchPath);
    this.#perl = findOnPath("perl", searchPath);
    this.processGroup = (options.processGroup ?? true) && this.#setsid !== undefined;
    this.#config = [...BUILTIN_GIT_CONFIG, ...(options.config ?? []).map(validateConfigEntry)];
    this.#onSpawn = options.onSpawn;
    this.#onExit = options.onExit;
    this.#killGraceMs = options.killGraceMs ?? 500;
    this.#stderrLimit = options.stderrLimit ?? DEFAULT_STDERR_LIMIT;
    this.#limit = new SpawnLimit(
      options.maxProcesses ?? 512,
      options.spawnTimeoutMs ?? 10_000,
      options.spawnObserver,
    );
  }

  /** The program and arguments that start git, in a process group of its own if configured. */
  #commandLine(argv: string[], sameSession: boolean): string[] {
    if (!this.processGroup) return [this.binPath, ...argv];
    if (sameSession && this.#perl) {
      return [this.#perl, "-e", PERL_SETPGRP, "--", this.binPath, ...argv];
    }
    return [this.#setsid!, this.binPath, ...argv];
  }

  /**
   * Starts git once fewer than `maxProcesses` started this way run; the
   * slot is given back when the child is reaped. The way handlers start
   * long-running commands.
   */
  async start(options: GitSpawnOptions): Promise<GitProcess> {
    const argv = this.#argv(options); // fail on bad arguments before queueing
    const release = await this.#limit.acquire(options.signal);
    let git: GitProcess;
    try {
      git = this.#spawnArgv(options, argv);
    } catch (error) {
      release();
      throw error;
    }
    git.wait().finally(release);
    return git;
  }

  /** Processes started with {@link start} running, and callers waiting for a slot. */
  spawnStats(): { running: number; waiting: number } {
    return { running: this.#limit.inUse, waiting: this.#limit.waiting };
  }

  /** Starts git at once, outside the bound of {@link start}. The child is tracked until reaped. */
  spawn(options: GitSpawnOptions): GitProcess {
    return this.#spawnArgv(options, this.#argv(options));
  }

  #spawnArgv(options: GitSpawnOptions, argv: string[]): GitProcess {
    options.signal?.throwIfAborted();
    const subcommand = options.command?.name ?? options.args![0];
    const stdoutPiped = options.stdout !== "null";
    // A group of its own only where git may start helpers that must die with it.
    const group = this.processGroup && !CHILDLESS_SUBCOMMANDS.has(subcommand);
    const [program, ...args] = group
      ? this.#commandLine(argv, options.sameSession ?? false)
      : [this.binPath, ...argv];
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
      subcommand,
      processGroup: group,
      killGraceMs: this.#killGraceMs,
      stderrLimit: options.stderrLimit ?? this.#stderrLimit,
      stdin: options.stdin ?? "null",
      signal: options.signal,
      onStderr: options.onStderr,
    }, stdoutPiped);
    this.#track(git);
    this.#onSpawn?.(subcommand);
    return git;
  }

  /** Runs git to completion, buffering stdout (at most `maxStdout` bytes). */
  async run(options: GitRunOptions): Promise<GitRunResult> {
    const git = await this.start({ ...options, stdout: "piped" });
    const limit = options.maxStdout ?? DEFAULT_MAX_STDOUT;
    let stdout: Uint8Array;
    try {
      stdout = await readAtMost(git.stdout, limit, git.subcommand);
    } catch (error) {
      // Over the limit, aborted or killed: make sure the child is gone first. An abort
      // already sent SIGTERM (SIGKILL follows after the grace period): git removes its
      // lock files on SIGTERM, so a SIGKILL now could leave one behind.
      if (!options.signal?.aborted) {
        (git as RunningGit).killFor(error instanceof GitOutputLimitError ? "output-limit" : "kill");
      }
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
      const args = options.command ? commandArgs(options.command) : options.args!;
      throw new GitCommandError(args, result.code, result.stderr, result.signal);
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
    if ((options.command === undefined) === (options.args === undefined)) {
      throw new TypeError("git needs exactly one of `command` and `args`");
    }
    const args = options.command ? commandArgs(options.command) : options.args!;
    const subcommand = args[0];
    if (!subcommand || subcommand.startsWith("-")) {
      throw new TypeError(
        `git args must start with a subcommand, got ${JSON.stringify(subcommand)}`,
      );
    }
    const argv: string[] = [];
    if (options.gitDir !== undefined) argv.push(`--git-dir=${options.gitDir}`);
    if (options.emptyShallowFile) argv.push("--shallow-file", "");
    for (const entry of this.#config) argv.push("-c", `${entry.key}=${entry.value}`);
    for (const entry of options.config ?? []) {
      validateConfigEntry(entry);
      argv.push("-c", `${entry.key}=${entry.value}`);
    }
    argv.push(...args);
    return argv;
  }

  #track(git: RunningGit): void {
    const started = performance.now();
    this.#live.add(git);
    git.wait().finally(() => {
      this.#live.delete(git);
      this.#onExit?.(git.subcommand, (performance.now() - started) / 1000);
    });
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

/** Joins byte arrays (one is returned as is); `size` is their total length when known. */
export function concatBytes(
  chunks: Uint8Array[],
  size: number = chunks.reduce((n, c) => n + c.byteLength, 0),
): Uint8Array {
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

/** The first executable file `name` in the `:`-separated `searchPath`, if any. */
export function findOnPath(name: string, searchPath: string): string | undefined {
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
