/**
 * Standard input and output for the transfer helpers, in whatever form the
 * caller has them: Web streams, Deno files and child process pipes, async
 * iterables, byte arrays or plain callbacks. Everything is turned into the
 * `StreamIO` the SSH-style calls use; writes wait for the sink
 * (backpressure).
 *
 * @module
 */
import type { StreamIO } from "./ssh.ts";

/** Where request bytes come from. */
export type ByteSource =
  | ReadableStream<Uint8Array>
  | { readonly readable: ReadableStream<Uint8Array> }
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | Uint8Array;

/** Where response bytes go. Sinks are not closed by the helpers: the caller owns them. */
export type ByteSink =
  | WritableStream<Uint8Array>
  | ((chunk: Uint8Array) => void | Promise<void>)
  | { write(chunk: Uint8Array): Promise<number> }
  | { readonly writable: WritableStream<Uint8Array> };

/** The standard streams of a remote git command; missing ones are empty (stdin) or dropped. */
export interface TransferIO {
  /** What the local git writes (its request); ends when git closes it. */
  stdin?: ByteSource;
  /** The remote command's standard output (for the local git to read). */
  stdout?: ByteSink;
  /** The remote command's standard error (progress messages). */
  stderr?: ByteSink;
}

/**
 * `io` as a `StreamIO`. Call `release()` when the transfer is over: it
 * lets go of the writers taken from `WritableStream` sinks.
 */
export function toStreamIO(io: TransferIO): { io: StreamIO; release(): void } {
  const releases: (() => void)[] = [];
  const sink = (target: ByteSink | undefined) => {
    const { write, release } = sinkFunction(target);
    releases.push(release);
    return write;
  };
  return {
    io: { stdin: sourceStream(io.stdin), stdout: sink(io.stdout), stderr: sink(io.stderr) },
    release: () => releases.forEach((release) => release()),
  };
}

/** Any {@link ByteSource} as a `ReadableStream`. */
export function sourceStream(source: ByteSource | undefined): ReadableStream<Uint8Array> {
  if (source === undefined) return ReadableStream.from<Uint8Array>([]);
  if (source instanceof ReadableStream) return source;
  if (source instanceof Uint8Array) return ReadableStream.from([source]);
  if ("readable" in source) return source.readable;
  return ReadableStream.from(source);
}

function sinkFunction(target: ByteSink | undefined): {
  write: (chunk: Uint8Array) => Promise<void>;
  release: () => void;
} {
  if (target === undefined) return { write: () => Promise.resolve(), release: () => {} };
  if (typeof target === "function") {
    return { write: async (chunk) => await target(chunk), release: () => {} };
  }
  if ("write" in target && typeof target.write === "function") {
    const writer = target as { write(chunk: Uint8Array): Promise<number> };
    return { write: (chunk) => writeAll(writer, chunk), release: () => {} };
  }
  const stream = target instanceof WritableStream
    ? target
    : (target as { writable: WritableStream<Uint8Array> }).writable;
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  return {
    write: (chunk) => (writer ??= stream.getWriter()).write(chunk),
    release: () => writer?.releaseLock(),
  };
}

/** A Deno-style `write` may take part of the chunk; loop until all of it is written. */
async function writeAll(
  writer: { write(chunk: Uint8Array): Promise<number> },
  chunk: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength;) {
    offset += await writer.write(chunk.subarray(offset));
  }
}
