/**
 * Plumbing between a streaming RPC and a git process: the request stream
 * becomes git's stdin, git's stdout and stderr become response messages,
 * with backpressure both ways and nothing buffered beyond one message.
 *
 * @module
 */
import { chunkStream, DEFAULT_CHUNK_SIZE } from "../../git/chunk.ts";
import type { GitExit, GitRunner, GitSpawnOptions } from "../../git/command.ts";
import { internal } from "../../server/errors.ts";
import { enlargeStdoutPipe } from "../../git/pipe_size.ts";
import { BulkBufferPool } from "../../proto/bulk_bytes.ts";

/**
 * Pipe size for a streamed command's stdout: git may run this far ahead of
 * us (the default 64 KiB stalls it whenever the server waits for a CPU).
 */
const STREAMED_PIPE_SIZE = 256 * 1024;

/**
 * Buffers lent to responses whose only field is a chunk of raw bytes (git's
 * stdout, object contents): one pool for every streaming RPC.
 */
export const CHUNK_POOL = new BulkBufferPool(DEFAULT_CHUNK_SIZE);

/** Receives one chunk of output; resolves once the next may be delivered. */
export type ByteSink = (chunk: Uint8Array) => Promise<void>;

/** The first message of a request stream and an iterator over the rest. */
export interface SplitRequests<Req> {
  first: Req;
  rest: AsyncIterator<Req>;
}

/**
 * Reads the first request (the one carrying the repository). A client that
 * half-closes without sending anything gets `Internal: EOF`, as from Gitaly.
 */
export async function firstRequest<Req>(requests: AsyncIterable<Req>): Promise<SplitRequests<Req>> {
  const rest = requests[Symbol.asyncIterator]();
  const next = await rest.next();
  if (next.done) throw internal("EOF");
  return { first: next.value, rest };
}

/** Whether an optional `bytes` field holds data. */
export function hasBytes(value: Uint8Array | ArrayLike<number> | null | undefined): boolean {
  return value !== null && value !== undefined && value.length > 0;
}

/**
 * A pull-based stream of the bytes the remaining requests carry
 * (`pick` selects the field, e.g. `stdin` or `data`), after those of
 * `first` when given (for RPCs whose first message carries data too). The next request is
 * read only when git is ready for more input; empty messages are skipped.
 * A failing request stream (the client cancelled) errors the stream, which
 * makes the runner kill git rather than let it act on a truncated request.
 */
export function requestBytes<Req>(
  rest: AsyncIterator<Req>,
  pick: (request: Req) => Uint8Array | null | undefined,
  first?: Req,
): ReadableStream<Uint8Array> {
  let head = first === undefined ? undefined : pick(first);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (head && head.byteLength > 0) {
        controller.enqueue(head);
        head = undefined;
        return;
      }
      while (true) {
        const next = await rest.next();
        if (next.done) {
          controller.close();
          return;
        }
        const data = pick(next.value);
        if (data && data.byteLength > 0) {
          controller.enqueue(data);
          return;
        }
      }
    },
    cancel() {
      // Git exited before the client finished sending; stop reading requests.
      rest.return?.().catch(() => {});
    },
  }, { highWaterMark: 0 });
}

/** Where a streamed git command's output goes. */
export interface GitOutputSinks {
  /** Gets git's stdout in messages of at most 128 KiB. */
  stdout: ByteSink;
  /** Gets git's stderr as it arrives; without it stderr is only captured. */
  stderr?: ByteSink;
  /**
   * Deliver stdout as read instead, in views of one reused buffer of this
   * many bytes that stay valid only until the sink resolves. For sinks that
   * copy or frame the bytes anyway (sidechannels): no copy and no
   * allocation per message.
   */
  stdoutViews?: number;
  /**
   * Deliver stdout in views lent from a shared pool instead (see
   * `src/proto/bulk_bytes.ts`), for sinks that send each chunk as the only
   * bytes field of a gRPC response (`send({ stdout: chunk })`) and keep
   * nothing: no allocation or copy per message on the way to the socket.
   */
  stdoutLent?: boolean;
}

/** How a streamed command ended, plus the bytes it sent to stdout. */
export interface StreamedExit extends GitExit {
  stdoutBytes: number;
}

/**
 * Spawns git and copies its stdout into `sinks.stdout` until the end,
 * awaiting each delivery (so a slow client slows git down), while stderr
 * goes to `sinks.stderr`. Resolves once git is reaped. An aborted
 * `spawn.signal` (SIGTERM, then SIGKILL) or a failing sink (SIGKILL) ends
 * git; the error is rethrown once git has been reaped.
 */
export async function runStreamed(
  git: GitRunner,
  spawn: Omit<GitSpawnOptions, "stdout" | "onStderr">,
  sinks: GitOutputSinks,
): Promise<StreamedExit> {
  const child = await git.start({
    ...spawn,
    stdout: "piped",
    onStderr: sinks.stderr,
    sameSession: true,
  });
  enlargeStdoutPipe(child.pid, STREAMED_PIPE_SIZE);
  let stdoutBytes = 0;
  try {
    if (sinks.stdoutViews) {
      stdoutBytes = await pumpViews(child.stdout, sinks.stdoutViews, sinks.stdout, spawn.signal);
    } else {
      const pool = sinks.stdoutLent ? CHUNK_POOL : undefined;
      for await (const chunk of chunkStream(child.stdout, { signal: spawn.signal, pool })) {
        stdoutBytes += chunk.byteLength;
        await sinks.stdout(chunk);
      }
    }
  } catch (error) {
    // An abort already sent SIGTERM (SIGKILL follows after a grace period),
    // letting git remove its lock files; any other failure kills git now.
    if (!spawn.signal?.aborted) child.kill();
    await child.wait();
    throw error;
  }
  const exit = await child.wait();
  spawn.signal?.throwIfAborted();
  return { ...exit, stdoutBytes };
}

/**
 * Hands each read of `source` to `sink` as a view of one reused buffer,
 * reading again once the sink resolved; returns the bytes read. A failing
 * sink or an abort cancels the source.
 */
async function pumpViews(
  source: ReadableStream<Uint8Array>,
  size: number,
  sink: ByteSink,
  signal?: AbortSignal,
): Promise<number> {
  const reader = source.getReader({ mode: "byob" });
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let buffer = new Uint8Array(size);
  let total = 0;
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read(buffer);
      signal?.throwIfAborted();
      if (done) break;
      total += value.byteLength;
      await sink(value);
      buffer = new Uint8Array(value.buffer); // the read transferred it
    }
    finished = true;
    return total;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!finished) await reader.cancel(signal?.reason).catch(() => {});
    reader.releaseLock();
  }
}

/** Go's wording for how a process ended: `exit status 128`, `signal: killed`. */
export function describeExit(exit: GitExit): string {
  if (exit.signal) return `signal: ${SIGNAL_WORDS[exit.signal] ?? exit.signal}`;
  return `exit status ${exit.code}`;
}

const SIGNAL_WORDS: Partial<Record<Deno.Signal, string>> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGPIPE: "broken pipe",
  SIGINT: "interrupt",
  SIGSEGV: "segmentation fault",
  SIGABRT: "aborted",
};
