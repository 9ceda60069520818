/**
 * Reads a byte stream as delimited records of any length (lines ending in
 * LF, or NUL-terminated fields), for parsers of git's textual output.
 *
 * @module
 */
import { readAfter } from "./bufreader.ts";

const READ_SIZE = 64 * 1024;

/** Record reader over one stream; reads must not overlap. */
export class RecordReader {
  #reader: ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;
  #byob: boolean;
  #buffer = new Uint8Array(READ_SIZE);
  #start = 0;
  #end = 0;
  #eof = false;

  /** Locks `stream`: with a BYOB reader (no copies) when it is a byte stream. */
  constructor(stream: ReadableStream<Uint8Array>) {
    try {
      this.#reader = stream.getReader({ mode: "byob" });
      this.#byob = true;
    } catch {
      this.#reader = stream.getReader();
      this.#byob = false;
    }
  }

  /**
   * The next record including its delimiter (the last one may lack it);
   * null at the end of the stream.
   */
  async next(delimiter = 0x0a): Promise<Uint8Array | null> {
    let scanned = this.#start;
    while (true) {
      const at = this.#buffer.subarray(scanned, this.#end).indexOf(delimiter);
      if (at >= 0) return this.#take(scanned + at + 1);
      scanned = this.#end;
      const before = this.#start;
      if (!await this.#fill()) {
        return this.#end > this.#start ? this.#take(this.#end) : null;
      }
      scanned -= before - this.#start;
    }
  }

  /**
   * The next record if it is buffered whole already (delimiter included),
   * else null without reading: records a read brought, without an await each.
   */
  takeBuffered(delimiter = 0x0a): Uint8Array | null {
    const at = this.#buffer.subarray(this.#start, this.#end).indexOf(delimiter);
    return at < 0 ? null : this.#take(this.#start + at + 1);
  }

  /** The next bytes without consuming them (fewer at the end of the stream). */
  async peek(count: number): Promise<Uint8Array> {
    while (this.#end - this.#start < count && await this.#fill()) {
      // keep filling
    }
    return this.#buffer.subarray(this.#start, Math.min(this.#end, this.#start + count));
  }

  /** Reads and drops everything left. */
  async drain(): Promise<void> {
    this.#start = this.#end = 0;
    while (await this.#fill()) this.#start = this.#end = 0;
  }

  /** Cancels the underlying stream. */
  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }

  #take(end: number): Uint8Array {
    const record = this.#buffer.slice(this.#start, end);
    this.#start = end;
    return record;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.byteLength) this.#grow(this.#end + 1);
    if (!this.#byob) {
      const reader = this.#reader as ReadableStreamDefaultReader<Uint8Array>;
      const { value, done } = await reader.read();
      if (done) {
        this.#eof = true;
        return false;
      }
      this.#grow(this.#end + value.byteLength);
      this.#buffer.set(value, this.#end);
      this.#end += value.byteLength;
      return true;
    }
    const { buffer, read } = await readAfter(
      this.#reader as ReadableStreamBYOBReader,
      this.#buffer,
      this.#end,
    );
    this.#buffer = buffer;
    if (read === null) {
      this.#eof = true;
      return false;
    }
    this.#end += read;
    return true;
  }

  /** Makes the buffer hold at least `size` bytes. */
  #grow(size: number): void {
    if (size <= this.#buffer.byteLength) return;
    let length = this.#buffer.byteLength * 2;
    while (length < size) length *= 2;
    const bigger = new Uint8Array(length);
    bigger.set(this.#buffer.subarray(0, this.#end));
    this.#buffer = bigger;
  }
}

/** Whether `bytes` starts with the ASCII text `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.byteLength < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix.charCodeAt(i)) return false;
  }
  return true;
}
