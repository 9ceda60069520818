/**
 * The one way to cut a byte stream into messages of at most N bytes, used
 * by every streaming RPC that sends raw bytes (blob data, git stdout, …).
 *
 * Reading: a BYOB reader (when the source is a byte stream) fills one
 * reused buffer; bytes are copied into message buffers that are handed out
 * and never touched again. Pipes deliver small reads (often 4–16 KiB),
 * while gRPC is much faster with large messages, so reads are coalesced:
 * once a message holds data, one timer (the next macrotask) bounds how long
 * it may wait for more; reads that complete before it fill the message,
 * and when it fires the partial message is emitted. Data that is already
 * waiting therefore fills whole messages, and a source that pauses (an
 * interactive protocol waiting for its peer) never holds back what it
 * already produced. One timer per message, not per read: a fast source is
 * read in many small pieces. Correctness never depends on that timing.
 *
 * @module
 */
import { type BulkBufferPool, FRAME_HEADROOM } from "../proto/bulk_bytes.ts";

/** Default message size: 128 KiB, the largest raw chunk Gitaly sends. */
export const DEFAULT_CHUNK_SIZE = 128 * 1024;

/** Options of {@link chunkStream}. */
export interface ChunkOptions {
  /** Largest message in bytes. Default {@link DEFAULT_CHUNK_SIZE}. */
  chunkSize?: number;
  /** Size of the reused read buffer. Default: the chunk size. */
  readBufferSize?: number;
  /** Aborting cancels the source and makes the generator throw the reason. */
  signal?: AbortSignal;
  /**
   * Fill message buffers from this pool and yield views it lends (see
   * `src/proto/bulk_bytes.ts`): no allocation per message, and the server
   * frames them in place. The consumer must send each one as the only
   * bytes field of a response and not keep it. Its size is the chunk size.
   */
  pool?: BulkBufferPool;
}

/**
 * Yields `source`'s bytes as fresh `Uint8Array`s of 1..chunkSize bytes
 * (the caller owns them). The next read waits until the consumer asks for
 * the next message, so a slow consumer slows the source down. Stopping
 * early (`break`, `return()`) or an abort cancels the source.
 */
export async function* chunkStream(
  source: ReadableStream<Uint8Array>,
  options: ChunkOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunkSize = options.pool?.size ?? options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError("chunkSize must be ≥ 1");
  const reader = openByteReader(source, options.readBufferSize ?? chunkSize);
  const signal = options.signal;
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const message = new MessageBuffer(chunkSize, options.pool);
  const deadline = new Deadline();
  let finished = false;
  try {
    signal?.throwIfAborted();
    let pending: Promise<Uint8Array | null> | undefined;
    while (true) {
      const next = pending ?? reader.read();
      pending = undefined;
      let data: Uint8Array | null;
      if (message.filled > 0) {
        const raced = await Promise.race([next, deadline.start()]);
        if (raced === TICK) {
          next.catch(() => {}); // awaited later; must not count as unhandled meanwhile
          pending = next;
          deadline.clear();
          yield message.take();
          continue;
        }
        data = raced;
      } else {
        data = await next;
      }
      signal?.throwIfAborted();
      if (data === null) break;
      for (let offset = 0; offset < data.byteLength;) {
        offset += message.fill(data, offset);
        if (message.full) {
          deadline.clear();
          yield message.take();
        }
      }
    }
    deadline.clear();
    if (message.filled > 0) yield message.take();
    finished = true;
  } finally {
    deadline.clear();
    message.discard();
    signal?.removeEventListener("abort", onAbort);
    if (!finished) await reader.cancel(signal?.reason).catch(() => {});
    reader.release();
  }
}

/** Splits an in-memory buffer into views of at most `chunkSize` bytes (no copies). */
export function* chunkBytes(
  data: Uint8Array,
  chunkSize: number = DEFAULT_CHUNK_SIZE,
): Generator<Uint8Array, void, undefined> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError("chunkSize must be ≥ 1");
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) {
    yield data.subarray(offset, offset + chunkSize);
  }
}

/** Accumulates bytes for one outgoing message, in a buffer of its own or one from a pool. */
class MessageBuffer {
  #buffer: Uint8Array;
  /** Where the data starts in `#buffer` (after the pool's headroom). */
  readonly #start: number;
  filled = 0;

  constructor(readonly size: number, readonly pool?: BulkBufferPool) {
    this.#buffer = pool ? pool.take() : new Uint8Array(size);
    this.#start = pool ? FRAME_HEADROOM : 0;
  }

  get full(): boolean {
    return this.filled === this.size;
  }

  /** Copies as much of `data[offset..]` as fits; returns the count. */
  fill(data: Uint8Array, offset: number): number {
    const count = Math.min(this.size - this.filled, data.byteLength - offset);
    this.#buffer.set(data.subarray(offset, offset + count), this.#start + this.filled);
    this.filled += count;
    return count;
  }

  /** Gives a pool's buffer back unused (the stream ended). */
  discard(): void {
    this.pool?.put(this.#buffer);
  }

  /** Hands out the accumulated bytes and starts a new message. */
  take(): Uint8Array {
    const filled = this.filled;
    this.filled = 0;
    if (this.pool) {
      const out = this.pool.lend(this.#buffer, filled);
      this.#buffer = this.pool.take();
      return out;
    }
    if (filled * 2 < this.size) return this.#buffer.slice(0, filled);
    // Mostly full: give the buffer away rather than copy it.
    const out = this.#buffer.subarray(0, filled);
    this.#buffer = new Uint8Array(this.size);
    return out;
  }
}

/** A reader returning views that stay valid until the next read. */
interface ByteReader {
  read(): Promise<Uint8Array | null>;
  cancel(reason?: unknown): Promise<void>;
  release(): void;
}

/** Uses a BYOB reader with one reused buffer when the source is a byte stream. */
function openByteReader(source: ReadableStream<Uint8Array>, bufferSize: number): ByteReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = source.getReader({ mode: "byob" });
  } catch {
    const reader = source.getReader();
    return {
      read: async () => {
        const { value, done } = await reader.read();
        return done ? null : value;
      },
      cancel: (reason) => reader.cancel(reason),
      release: () => reader.releaseLock(),
    };
  }
  let buffer = new Uint8Array(bufferSize);
  return {
    read: async () => {
      const { value, done } = await byob.read(buffer);
      if (done) return null;
      buffer = new Uint8Array(value.buffer); // the read transferred our buffer
      return value;
    },
    cancel: (reason) => byob.cancel(reason),
    release: () => byob.releaseLock(),
  };
}

const TICK = Symbol("tick");

/** One pending timer that resolves with TICK at the next macrotask; re-armed after clear(). */
class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #tick: Promise<typeof TICK> | undefined;

  /** The running deadline, started now if none runs. */
  start(): Promise<typeof TICK> {
    this.#tick ??= new Promise<typeof TICK>((resolve) => {
      this.#timer = setTimeout(() => resolve(TICK), 0);
    });
    return this.#tick;
  }

  /** Stops the deadline; the next start() begins a new one. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#tick = undefined;
  }
}
