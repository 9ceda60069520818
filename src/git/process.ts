/**
 * One running git child: its stdout stream, stdin pump, stderr capture,
 * cancellation and reaping. Created only by {@link GitRunner.spawn}.
 *
 * @module
 */

import { TailBuffer } from "./stderr.ts";
import { guardStdout } from "./stdout.ts";

/** Why we killed a process, when we did. */
export type KillReason =
  | "abort" // the caller's AbortSignal fired
  | "cancel" // the consumer cancelled stdout
  | "kill" // GitProcess.kill() was called
  | "stdin-error" // the stdin source failed: git must not act on a truncated request
  | "output-limit" // run() saw more stdout than allowed
  | "shutdown"; // GitRunner.killAll()

/** How a git process ended. */
export interface GitExit {
  /** Exit code; 128 + signal number when killed by a signal (shell convention). */
  code: number;
  /** The terminating signal, if any. */
  signal?: Deno.Signal;
  /** The last `stderrLimit` bytes of stderr, decoded as UTF-8. */
  stderr: string;
  /** Stderr bytes dropped from the front because of the limit. */
  stderrDropped: number;
  /** Set when this side killed the process. */
  killReason?: KillReason;
}

/** A running git command. */
export interface GitProcess {
  /** Process id of the child (also its process group id when groups are used). */
  readonly pid: number;
  /** The git subcommand, e.g. `upload-pack`. */
  readonly subcommand: string;
  /**
   * Git's standard output as a byte stream (BYOB readers welcome). Consumers
   * must read it to the end or cancel it; cancelling kills the process. The
   * stream errors when the process is killed by this side. Its end does not
   * mean success: check {@link GitProcess.wait}.
   */
  readonly stdout: ReadableStream<Uint8Array>;
  /** True once the child has been reaped. */
  readonly exited: boolean;
  /** Resolves once the child is reaped and its stderr fully drained. */
  wait(): Promise<GitExit>;
  /** Sends `signal` (default SIGKILL) to the process (group); no-op once exited. */
  kill(signal?: Deno.Signal): void;
}

/** Where git's stdin comes from. */
export type GitStdin = ReadableStream<Uint8Array> | Uint8Array | "null";

/** Everything {@link RunningGit} needs besides the child itself. */
export interface ProcessSetup {
  subcommand: string;
  /** Signal the negative pid (the whole group) instead of the child alone. */
  processGroup: boolean;
  /** Time between SIGTERM and SIGKILL when the AbortSignal fires. */
  killGraceMs: number;
  stderrLimit: number;
  stdin: GitStdin;
  signal?: AbortSignal;
  onStderr?: (chunk: Uint8Array) => void | Promise<void>;
}

const STDERR_READ_SIZE = 16 * 1024;
/** How long to wait for a killed group's stderr to close after its SIGKILL. */
const STRAGGLER_WAIT_MS = 250;

/** The {@link GitProcess} implementation around a `Deno.ChildProcess`. */
export class RunningGit implements GitProcess {
  readonly pid: number;
  readonly subcommand: string;
  readonly stdout: ReadableStream<Uint8Array>;
  #child: Deno.ChildProcess;
  #setup: ProcessSetup;
  #failStdout: (reason: unknown) => void;
  #stderr: TailBuffer;
  #exited = false;
  #killReason?: KillReason;
  #graceTimer?: ReturnType<typeof setTimeout>;
  #onExit: (() => void)[] = [];
  #exit: Promise<GitExit>;

  /** Takes ownership of `child`, whose stdin/stderr are piped (stdout piped or null). */
  constructor(child: Deno.ChildProcess, setup: ProcessSetup, stdoutPiped: boolean) {
    this.#child = child;
    this.#setup = setup;
    this.pid = child.pid;
    this.subcommand = setup.subcommand;
    this.#stderr = new TailBuffer(setup.stderrLimit);

    if (stdoutPiped) {
      const guarded = guardStdout(child.stdout, () => this.#killFor("cancel", "SIGKILL"));
      this.stdout = guarded.stream;
      this.#failStdout = guarded.fail;
    } else {
      this.stdout = new ReadableStream({ type: "bytes", start: (c) => c.close() });
      this.#failStdout = () => {};
    }

    const stderrDone = this.#drainStderr(child.stderr);
    this.#feedStdin(setup.stdin);
    this.#watchSignal(setup.signal);
    this.#exit = Promise.all([child.status, stderrDone]).then(([status]) => this.#exitInfo(status));
    child.status.then(() => this.#markExited());
  }

  get exited(): boolean {
    return this.#exited;
  }

  wait(): Promise<GitExit> {
    return this.#exit;
  }

  kill(signal: Deno.Signal = "SIGKILL"): void {
    this.#killFor("kill", signal);
  }

  /** Kills for a recorded reason; used by the runner and run(). */
  killFor(reason: KillReason, signal: Deno.Signal = "SIGKILL"): void {
    this.#killFor(reason, signal);
  }

  #killFor(reason: KillReason, signal: Deno.Signal): void {
    if (this.#exited) return;
    this.#killReason ??= reason;
    if (reason !== "cancel") this.#failStdout(new GitKilledError(this.subcommand, reason));
    this.#sendSignal(signal);
  }

  #sendSignal(signal: Deno.Signal): void {
    if (this.#exited) return;
    if (this.#setup.processGroup && this.#signalGroup(signal)) return;
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** Signals the whole group; false when it does not exist (yet, or any more). */
  #signalGroup(signal: Deno.Signal): boolean {
    try {
      Deno.kill(-this.pid, signal);
      return true;
    } catch {
      return false; // setsid has not run yet, or every member is gone
    }
  }

  #watchSignal(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const onAbort = () => {
      if (this.#exited) return;
      this.#killReason ??= "abort";
      this.#failStdout(signal.reason);
      this.#sendSignal("SIGTERM");
      this.#graceTimer = setTimeout(() => this.#sendSignal("SIGKILL"), this.#setup.killGraceMs);
    };
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      this.#onExit.push(() => signal.removeEventListener("abort", onAbort));
    }
  }

  #markExited(): void {
    this.#exited = true;
    clearTimeout(this.#graceTimer);
    for (const hook of this.#onExit) hook();
  }

  async #drainStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
    const reader = stream.getReader({ mode: "byob" });
    const stopReading = () => reader.cancel().catch(() => {});
    let straggler: ReturnType<typeof setTimeout> | undefined;
    this.#onExit.push(() => {
      if (!this.#killReason) return;
      // A killed git may leave helpers holding stderr open. Without a process
      // group they were not signalled: stop waiting for them once git is reaped.
      if (!this.#setup.processGroup) return void stopReading();
      // In a group they were, and may still be cleaning up (a multi-pack-index
      // writer removing its lock): wait until they close stderr, as the same
      // command run again would collide with them. Stragglers get SIGKILL after
      // the grace period.
      straggler = setTimeout(() => {
        this.#signalGroup("SIGKILL");
        straggler = setTimeout(stopReading, STRAGGLER_WAIT_MS);
      }, this.#setup.killGraceMs);
    });
    try {
      await this.#readStderr(reader);
    } finally {
      clearTimeout(straggler);
    }
  }

  async #readStderr(reader: ReadableStreamBYOBReader): Promise<void> {
    let buffer = new Uint8Array(STDERR_READ_SIZE);
    let onStderr = this.#setup.onStderr;
    while (true) {
      const { value, done } = await reader.read(buffer);
      if (done || !value) return;
      this.#stderr.push(value);
      if (onStderr) {
        try {
          await onStderr(value.slice());
        } catch {
          // The listener is gone; keep draining so git never blocks on stderr.
          onStderr = undefined;
        }
      }
      buffer = new Uint8Array(value.buffer);
    }
  }

  #feedStdin(stdin: GitStdin): void {
    const sink = this.#child.stdin;
    if (stdin === "null") {
      sink.close().catch(() => {});
    } else if (stdin instanceof Uint8Array) {
      const writer = sink.getWriter();
      writer.write(stdin).catch(() => {});
      writer.close().catch(() => {});
    } else {
      this.#pumpStdin(stdin, sink);
    }
  }

  /** Copies `source` into git's stdin one chunk at a time (backpressure). */
  async #pumpStdin(source: ReadableStream<Uint8Array>, sink: WritableStream<Uint8Array>) {
    const reader = source.getReader();
    const writer = sink.getWriter();
    // A source that is idle when git exits must not keep the pump alive.
    this.#onExit.push(() => reader.cancel().catch(() => {}));
    try {
      while (true) {
        await writer.ready;
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          // Kill before closing stdin: git must never see a clean EOF here.
          this.#killFor("stdin-error", "SIGKILL");
          writer.abort(error).catch(() => {});
          return;
        }
        if (result.done) break;
        writer.write(result.value).catch(() => {});
      }
      await writer.close();
    } catch (error) {
      // Git closed its stdin (exited or stopped reading): stop the source too.
      reader.cancel(error).catch(() => {});
      writer.abort(error).catch(() => {});
    }
  }

  #exitInfo(status: Deno.CommandStatus): GitExit {
    const exit: GitExit = {
      code: status.code,
      stderr: this.#stderr.text(),
      stderrDropped: this.#stderr.dropped,
    };
    if (status.signal) exit.signal = status.signal;
    if (this.#killReason) exit.killReason = this.#killReason;
    return exit;
  }
}

/** The error a killed process's stdout fails with. */
export class GitKilledError extends Error {
  /** Why the process was killed. */
  readonly reason: KillReason;

  /** Creates the error for `subcommand` killed for `reason`. */
  constructor(subcommand: string, reason: KillReason) {
    super(`git ${subcommand} was killed (${reason})`);
    this.name = "GitKilledError";
    this.reason = reason;
  }
}
