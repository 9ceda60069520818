/**
 * Reading a fixed-size prefix (a magic, an id, a confirmation) off the
 * front of a byte stream, then handing over everything after it without
 * losing bytes that arrived in the same chunk.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/** The stream ended before the bytes asked for arrived. */
export class UnexpectedEofError extends Error {
  /** Bytes that did arrive. */
  readonly received: Uint8Array;

  /** Creates the error; Go's wording: `EOF` when nothing came, `unexpected EOF` otherwise. */
  constructor(received: Uint8Array) {
    super(received.byteLength === 0 ? "EOF" : "unexpected EOF");
    this.name = "UnexpectedEofError";
    this.received = received;
  }
}

/**
 * Reads exact byte counts from a stream it holds the lock of. Chunks are
 * kept as delivered (never copied unless a prefix spans several of them).
 */
export class PrefixReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #leftover: Uint8Array = EMPTY;
  #released = false;

  /** Locks `readable`. */
  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  /**
   * Resolves with exactly `count` bytes. Rejects with
   * {@link UnexpectedEofError} when the stream ends first, or with the
   * stream's error.
   */
  async readExactly(count: number): Promise<Uint8Array> {
    while (this.#leftover.byteLength < count) {
      const { value, done } = await this.#reader.read();
      if (done) {
        const received = this.#leftover;
        this.#leftover = EMPTY;
        throw new UnexpectedEofError(received);
      }
      this.#leftover = this.#leftover.byteLength === 0 ? value : concat(this.#leftover, value);
    }
    const out = this.#leftover.subarray(0, count);
    this.#leftover = this.#leftover.subarray(count);
    return out;
  }

  /**
   * The rest of the stream (bytes already buffered first) as a new stream
   * that reads on demand; cancelling it cancels the source.
   */
  rest(): ReadableStream<Uint8Array> {
    let first: Uint8Array | undefined = this.#leftover.byteLength > 0 ? this.#leftover : undefined;
    this.#leftover = EMPTY;
    const reader = this.#reader;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (first) {
          controller.enqueue(first);
          first = undefined;
          return;
        }
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /**
   * Gives the source stream back (unlocks it) and returns the bytes read
   * past the last prefix, which the next owner must put in front.
   */
  release(): Uint8Array {
    if (!this.#released) {
      this.#released = true;
      this.#reader.releaseLock();
    }
    const leftover = this.#leftover;
    this.#leftover = EMPTY;
    return leftover;
  }

  /** Cancels the source stream. */
  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason).catch(() => {});
  }
}

/** `a` followed by `b` in a new buffer. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
