/**
 * Bounded capture of a child's standard error.
 *
 * @module
 */

/** Default number of stderr bytes kept per process. */
export const DEFAULT_STDERR_LIMIT = 64 * 1024;

/**
 * Keeps the last `limit` bytes written to it and counts what it dropped.
 * The tail is kept because git prints the decisive `fatal:` line last.
 */
export class TailBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #dropped = 0;

  /** Creates a buffer that keeps at most `limit` bytes (0 keeps nothing). */
  constructor(readonly limit: number = DEFAULT_STDERR_LIMIT) {}

  /** Appends a copy of `chunk`, dropping the oldest bytes beyond the limit. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    const kept = chunk.byteLength > this.limit
      ? chunk.subarray(chunk.byteLength - this.limit)
      : chunk;
    this.#dropped += chunk.byteLength - kept.byteLength;
    this.#chunks.push(kept.slice());
    this.#size += kept.byteLength;
    this.#trimFront();
  }

  /** Bytes dropped so far because the limit was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The kept bytes decoded as UTF-8 (invalid sequences replaced). */
  text(): string {
    const decoder = new TextDecoder();
    let out = "";
    for (const chunk of this.#chunks) out += decoder.decode(chunk, { stream: true });
    return out + decoder.decode();
  }

  #trimFront(): void {
    while (this.#size > this.limit) {
      const first = this.#chunks[0];
      const excess = this.#size - this.limit;
      if (first.byteLength <= excess) {
        this.#chunks.shift();
        this.#size -= first.byteLength;
        this.#dropped += first.byteLength;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
        this.#dropped += excess;
      }
    }
  }
}
