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
  /** Where {@link peekRecord} goes on looking for a delimiter. */
  #scanned = 0;
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

  /**
   * The next record (delimiter included; at the end of the stream the rest
   * without one) as a view into the reader's buffer, without consuming it
   * and without reading: undefined when no whole record is buffered yet
   * (call {@link fill}), null at the end of the stream. The view is valid
   * until the next read; {@link skip} consumes it.
   */
  peekRecord(delimiter = 0x0a): Uint8Array | null | undefined {
    const end = this.peekRecordEnd(delimiter);
    if (end < 0) return undefined;
    return end === this.#start ? null : this.#buffer.subarray(this.#start, end);
  }

  /**
   * {@link peekRecord} without a view: where the next record ends in
   * {@link bytes} (it starts at {@link position}); -1 when no whole record
   * is buffered yet, {@link position} itself at the end of the stream.
   */
  peekRecordEnd(delimiter = 0x0a): number {
    const at = this.#buffer.indexOf(delimiter, Math.max(this.#scanned, this.#start));
    if (at >= 0 && at < this.#end) return at + 1;
    this.#scanned = this.#end;
    return this.#eof ? this.#end : -1;
  }

  /** The reader's buffer (replaced by reads: valid until the next {@link fill}). */
  get bytes(): Uint8Array {
    return this.#buffer;
  }

  /** Where the unconsumed bytes start in {@link bytes}. */
  get position(): number {
    return this.#start;
  }

  /** Consumes `count` buffered bytes (a record {@link peekRecord} returned). */
  skip(count: number): void {
    this.#start += count;
  }

  /** Reads more of the stream into the buffer; false at its end. */
  fill(): Promise<boolean> {
    return this.#fill();
  }

  /** Reads and drops everything left. */
  async drain(): Promise<void> {
    this.#start = this.#end = this.#scanned = 0;
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
      this.#scanned = Math.max(0, this.#scanned - this.#start);
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
  return startsWithAt(bytes, 0, bytes.byteLength, prefix);
}

/** Whether `bytes[from..to)` starts with the ASCII text `prefix`. */
export function startsWithAt(bytes: Uint8Array, from: number, to: number, prefix: string): boolean {
  if (to - from < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[from + i] !== prefix.charCodeAt(i)) return false;
  }
  return true;
}
