/**
 * Reference transactions through one `git update-ref -z --stdin` process,
 * as Gitaly's `updateref.Updater` runs them: `start`, the queued updates,
 * `prepare` (every reference locked and its old value checked), `commit`.
 * Nothing changes unless `commit` succeeds: closing the updater earlier,
 * a failed update or a cancelled call aborts the transaction and git
 * removes its lock files. A cancelled call closes git's stdin rather than
 * killing it (git aborts an open transaction at the end of its input), and
 * once `commit` is sent git is left to finish it: a kill in the middle of
 * applying a transaction could leave part of it applied. Only a git that
 * does not exit within {@link ABORT_GRACE_MS} of a cancellation is stopped
 * with SIGTERM (on which git also removes its locks).
 *
 * Failures are parsed from git's stderr into {@link RefUpdateFailure}s, the
 * same cases Gitaly recognizes (a locked reference, a reference not at the
 * expected value, a missing object, …), so handlers can answer with
 * Gitaly's codes and error details.
 *
 * @module
 */
import { BufferedReader } from "./bufreader.ts";
import type { GitConfigEntry, GitProcess, GitRunner } from "./command.ts";

/** A failure git reported, by kind, with the names and ids it mentioned. */
export type RefUpdateFailure =
  /** Another process holds the reference's lock file. */
  | { kind: "locked"; reference: string }
  /** Git refused the reference name. */
  | { kind: "invalid-format"; reference: string }
  /** The reference was to be created (old value zero) but exists. */
  | { kind: "already-exists"; reference: string }
  /** The reference was expected at an old value but does not exist. */
  | { kind: "unresolved"; reference: string }
  /** The reference would clash with an existing one as file and directory. */
  | { kind: "file-directory-conflict"; conflicting: string; existing: string }
  /** Two updates of this transaction clash as file and directory. */
  | { kind: "in-transaction-conflict"; first: string; second: string }
  /** The same reference was queued twice. */
  | { kind: "multiple-updates"; reference: string }
  /** The new value names an object the repository does not have. */
  | { kind: "nonexistent-object"; reference: string; oid: string }
  /** A branch would point at something other than a commit. */
  | { kind: "non-commit-object"; reference: string; oid: string }
  /** The reference is not at the expected old value. */
  | { kind: "mismatch"; reference: string; expected: string; actual: string };

/** What Gitaly says for each kind of failure. */
const MESSAGES: Record<RefUpdateFailure["kind"], string> = {
  "locked": "reference is already locked",
  "invalid-format": "invalid reference format",
  "already-exists": "reference already exists",
  "unresolved": "reference does not exist",
  "file-directory-conflict": "file directory conflict",
  "in-transaction-conflict": "conflicting reference updates in the same transaction",
  "multiple-updates": "reference has been updated multiple times within a transaction",
  "nonexistent-object": "target object missing",
  "non-commit-object": "target object not a commit",
  "mismatch": "reference does not point to expected object",
};

/** A reference transaction failed; `failure` says how when git's message was recognized. */
export class RefUpdateError extends Error {
  /** Builds the error from git's exit. */
  constructor(
    /** The recognized failure, if any. */
    readonly failure: RefUpdateFailure | undefined,
    /** Git's exit code. */
    readonly exitCode: number,
    /** Git's stderr (tail). */
    readonly stderr: string,
  ) {
    super(failure ? MESSAGES[failure.kind] : describeExit(exitCode, stderr));
    this.name = "RefUpdateError";
  }

  /** The stderr for the call's log line. */
  logFields(): Record<string, string> {
    return { "git.command": "update-ref", "git.stderr": this.stderr.slice(-2048) };
  }
}

function describeExit(code: number, stderr: string): string {
  const line = firstFatal(stderr);
  return `exit status ${code}${line ? `: ${line}` : ""}`;
}

function firstFatal(stderr: string): string | undefined {
  return stderr.split("\n").find((line) => line.startsWith("fatal: "));
}

/** The patterns of git's messages, each with the failure it means. */
const PATTERNS: [RegExp, (m: RegExpExecArray) => RefUpdateFailure][] = [
  [
    /^fatal: (?:prepare|commit): cannot lock ref '(.+?)': Unable to create '.*': File exists\./,
    (m) => ({ kind: "locked", reference: m[1] }),
  ],
  [/^fatal: invalid ref format: (.*)$/, (m) => ({ kind: "invalid-format", reference: m[1] })],
  [
    /^fatal: .*: cannot lock ref '(.*)': '(.*)' exists; cannot create '.*'$/,
    (m) => ({ kind: "file-directory-conflict", conflicting: m[1], existing: m[2] }),
  ],
  [
    /^fatal: .*: cannot lock ref '.*': cannot process '(.*)' and '(.*)' at the same time$/,
    (m) => ({ kind: "in-transaction-conflict", first: m[1], second: m[2] }),
  ],
  [
    /^fatal: .*: cannot update ref '.*': trying to write ref '(.*)' with nonexistent object (.*)$/,
    (m) => ({ kind: "nonexistent-object", reference: m[1], oid: m[2] }),
  ],
  [
    /^fatal: .*: cannot update ref '.*': trying to write non-commit object (.*) to branch '(.*)'$/,
    (m) => ({ kind: "non-commit-object", reference: m[2], oid: m[1] }),
  ],
  [
    /^fatal: .*: cannot lock ref '(.*)': is at (.*) but expected (.*)$/,
    (m) => ({ kind: "mismatch", reference: m[1], actual: m[2], expected: m[3] }),
  ],
  [
    /^fatal: .*: cannot lock ref '(.*)': reference already exists$/,
    (m) => ({ kind: "already-exists", reference: m[1] }),
  ],
  [
    /^fatal: .*: cannot lock ref '(.*)': unable to resolve reference '.*'$/,
    (m) => ({ kind: "unresolved", reference: m[1] }),
  ],
  [
    /^fatal: .*: multiple updates for ref '(.*)' not allowed$/,
    (m) => ({ kind: "multiple-updates", reference: m[1] }),
  ],
];

/** Recognizes the failure git's stderr reports, if it is one of the known kinds. */
export function parseRefUpdateFailure(stderr: string): RefUpdateFailure | undefined {
  const line = firstFatal(stderr);
  if (line === undefined) return undefined;
  for (const [pattern, make] of PATTERNS) {
    const match = pattern.exec(line);
    if (match) return make(match);
  }
  return undefined;
}

/** Options of {@link RefUpdater.start}. */
export interface RefUpdaterOptions {
  /** Update symbolic references themselves, not what they point to (`--no-deref`). */
  noDeref?: boolean;
  /** Aborting aborts the transaction (unless `commit` was already sent); see the module doc. */
  signal?: AbortSignal;
  /** Extra config for git (e.g. the hooks directory of a transaction that votes). */
  config?: GitConfigEntry[];
  /** Extra environment for git (e.g. the hooks payload). */
  env?: Record<string, string>;
}

/** Queued update commands are written once they reach this size (or at the next state change). */
const FLUSH_SIZE = 64 * 1024;
const UPDATE = new TextEncoder().encode("update ");

/** How long a cancelled transaction's git may take to exit before it gets SIGTERM. */
export const ABORT_GRACE_MS = 5000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One reference transaction; see the module documentation. Not for concurrent use. */
export class RefUpdater {
  readonly #git: GitProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: BufferedReader;
  #closing?: Promise<void>;
  #failed?: RefUpdateError;
  #committing = false;
  /** Update commands not written yet (sent with the next state command, or once large). */
  #pending: Uint8Array[] = [];
  #pendingSize = 0;

  private constructor(
    git: GitProcess,
    stdin: WritableStreamDefaultWriter<Uint8Array>,
    signal: AbortSignal | undefined,
  ) {
    this.#git = git;
    this.#stdin = stdin;
    this.#stdout = new BufferedReader(git.stdout);
    if (signal) this.#watch(signal);
  }

  /** On abort: end git's input (which aborts the transaction) unless it is committing. */
  #watch(signal: AbortSignal): void {
    const onAbort = () => {
      if (this.#committing) return;
      // Only end the input: whoever is waiting for git's answer reads the end of it.
      this.#stdin.close().catch(() => {});
      const timer = setTimeout(() => this.#git.kill("SIGTERM"), ABORT_GRACE_MS);
      this.#git.wait().finally(() => clearTimeout(timer));
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      this.#git.wait().finally(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** Starts `git update-ref` in `gitDir` and opens a transaction. */
  static async start(
    runner: GitRunner,
    gitDir: string,
    options: RefUpdaterOptions = {},
  ): Promise<RefUpdater> {
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    const flags = ["-z", "--stdin", ...options.noDeref ? ["--no-deref"] : []];
    // No signal for the runner: a cancelled call must not kill git mid-commit (see above).
    const git = await runner.start({
      gitDir,
      command: { name: "update-ref", flags },
      stdin: pipe.readable,
      ...options.config?.length ? { config: options.config } : {},
      ...options.env ? { env: options.env } : {},
    });
    const updater = new RefUpdater(git, pipe.writable.getWriter(), options.signal);
    try {
      await updater.#state("start");
    } catch (error) {
      await updater.close();
      throw error;
    }
    return updater;
  }

  /**
   * Queues setting `reference` (raw name bytes) to `newOid`; the zero id
   * deletes it. With `oldOid`, the reference must be at that value (the zero
   * id: must not exist); without, it is forced. Commands are written to git
   * in batches; a refusal shows at the latest in {@link prepare}.
   */
  async update(reference: Uint8Array, newOid: string, oldOid = ""): Promise<void> {
    if (this.#failed) throw this.#failed;
    this.#queue(UPDATE);
    this.#queue(reference);
    this.#queue(encoder.encode(`\0${newOid}\0${oldOid}\0`));
    if (this.#pendingSize >= FLUSH_SIZE) await this.#flush();
  }

  /** Adds bytes to what the next write sends. */
  #queue(bytes: Uint8Array): void {
    this.#pending.push(bytes);
    this.#pendingSize += bytes.byteLength;
  }

  /** Writes the queued commands in one go. */
  async #flush(): Promise<void> {
    if (this.#pendingSize === 0) return;
    const bytes = new Uint8Array(this.#pendingSize);
    let at = 0;
    for (const part of this.#pending) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    this.#pending = [];
    this.#pendingSize = 0;
    await this.#write(bytes);
  }

  /** Locks every queued reference and checks its old value; changes nothing yet. */
  prepare(): Promise<void> {
    return this.#state("prepare");
  }

  /** Applies the transaction, then ends the process. */
  async commit(): Promise<void> {
    this.#committing = true;
    await this.#state("commit");
    await this.close();
  }

  /**
   * Ends the process; a transaction not committed is aborted (git removes
   * its locks). Safe to call more than once and after a failure.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#stdin.close().catch(() => {});
      // Read to the end rather than cancel: cancelling would SIGKILL git
      // before it could remove its lock files.
      try {
        while (await this.#stdout.readLine() !== null) { /* nothing more is expected */ }
      } catch {
        // Killed (the call was cancelled): wait() below still reaps it.
      }
      await this.#git.wait();
    })();
    return this.#closing;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (this.#failed) throw this.#failed;
    try {
      await this.#stdin.write(bytes);
    } catch {
      await this.#fail();
    }
  }

  /** Sends a state command and expects git's `<state>: ok`. */
  async #state(state: string): Promise<void> {
    this.#queue(encoder.encode(`${state}\0`));
    await this.#flush();
    let line: Uint8Array | null;
    try {
      line = await this.#stdout.readLine();
    } catch {
      line = null;
    }
    if (line === null || decoder.decode(line) !== `${state}: ok`) await this.#fail();
  }

  /** Git failed: wait for it to end and throw what its stderr says. */
  async #fail(): Promise<never> {
    if (!this.#failed) {
      await this.close();
      const exit = await this.#git.wait();
      this.#failed = new RefUpdateError(parseRefUpdateFailure(exit.stderr), exit.code, exit.stderr);
    }
    throw this.#failed;
  }
}
