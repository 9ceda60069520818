/**
 * A buffered reader over a byte stream, for line-and-length protocols such
 * as `git cat-file --batch` output: read a header line, then exactly N
 * bytes, without losing bytes that arrived in the same chunk.
 *
 * @module
 */

/** Default buffer size (also the longest line accepted). */
const DEFAULT_BUFFER_SIZE = 64 * 1024;
const LF = 0x0a;

/**
 * One BYOB read into `buffer` after its first `end` bytes. The read
 * transfers the buffer's memory: go on with the returned `buffer` (the
 * same bytes, a new view over the whole memory). `read` is null at the
 * end of the stream.
 */
export async function readAfter<B extends Uint8Array>(
  reader: ReadableStreamBYOBReader,
  buffer: B,
  end: number,
): Promise<{ buffer: B; read: number | null }> {
  const { value, done } = await reader.read(
    new Uint8Array(buffer.buffer, end, buffer.byteLength - end),
  );
  return {
    buffer: value ? new Uint8Array(value.buffer) as B : buffer,
    read: done ? null : value!.byteLength,
  };
}

/** The stream ended where more bytes were required. */
export class UnexpectedEofError extends Error {
  /** Creates the error, saying what was being read. */
  constructor(what: string) {
    super(`unexpected end of stream while reading ${what}`);
    this.name = "UnexpectedEofError";
  }
}

/** Buffered reads over one stream; reads must not overlap. */
export class BufferedReader {
  #reader: ReadableStreamBYOBReader;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;

  /** Locks `stream` (a byte stream) with a BYOB reader. */
  constructor(stream: ReadableStream<Uint8Array>, bufferSize: number = DEFAULT_BUFFER_SIZE) {
    this.#reader = stream.getReader({ mode: "byob" });
    this.#buffer = new Uint8Array(bufferSize);
  }

  /** Number of bytes already buffered. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Reads one line without its LF. Returns null at a clean end of stream;
   * throws if the stream ends mid-line or the line does not fit the buffer.
   */
  async readLine(): Promise<Uint8Array | null> {
    const buffered = this.takeLine();
    if (buffered !== null) return buffered;
    let scanned = this.#start;
    while (true) {
      const lf = this.#buffer.subarray(scanned, this.#end).indexOf(LF);
      if (lf >= 0) {
        const line = this.#buffer.slice(this.#start, scanned + lf);
        this.#start = scanned + lf + 1;
        return line;
      }
      scanned = this.#end;
      const before = this.#start;
      if (!await this.#fill()) {
        if (this.buffered === 0) return null;
        throw new UnexpectedEofError("a line");
      }
      scanned -= before - this.#start; // #fill may have moved the data to the front
    }
  }

  /**
   * Takes a line already in the buffer (without its LF), or returns null
   * without reading when no whole line is buffered.
   */
  takeLine(): Uint8Array | null {
    const start = this.#start;
    if (start >= this.#end) return null;
    // Searching the whole buffer (no view per line): a LF past the end is stale data.
    const lf = this.#buffer.indexOf(LF, start);
    if (lf < 0 || lf >= this.#end) return null;
    const line = this.#buffer.slice(start, lf);
    this.#start = lf + 1;
    return line;
  }

  /**
   * {@link takeLine} without the copy: a view valid only until the next
   * read.
   */
  takeLineView(): Uint8Array | null {
    const lf = this.#buffer.indexOf(LF, this.#start);
    if (lf < 0 || lf >= this.#end) return null;
    const line = this.#buffer.subarray(this.#start, lf);
    this.#start = lf + 1;
    return line;
  }

  /**
   * Takes every whole line already in the buffer (without their LFs) as
   * views into one copy of them: one allocation for all instead of one a
   * line. Reads nothing; empty when no whole line is buffered.
   */
  takeLineViews(): Uint8Array[] {
    const start = this.#start;
    if (start >= this.#end) return [];
    const last = this.#buffer.lastIndexOf(LF, this.#end - 1);
    if (last < start) return [];
    const copy = this.#buffer.slice(start, last + 1);
    this.#start = last + 1;
    const lines: Uint8Array[] = [];
    for (let from = 0, lf = copy.indexOf(LF); lf >= 0; lf = copy.indexOf(LF, from)) {
      lines.push(copy.subarray(from, lf));
      from = lf + 1;
    }
    return lines;
  }

  /** Takes every whole line already in the buffer (without their LFs); reads nothing. */
  takeLines(): Uint8Array[] {
    const lines: Uint8Array[] = [];
    for (let line = this.takeLine(); line !== null; line = this.takeLine()) lines.push(line);
    return lines;
  }

  /**
   * Takes `count` bytes already in the buffer (a copy), or returns null
   * without reading when fewer are buffered.
   */
  takeBytes(count: number): Uint8Array | null {
    if (this.buffered < count) return null;
    const out = this.#buffer.slice(this.#start, this.#start + count);
    this.#start += count;
    return out;
  }

  /**
   * A view of the next `count` bytes without taking them, valid only until
   * the next read; null when fewer are buffered.
   */
  peekView(count: number): Uint8Array | null {
    return this.buffered < count ? null : this.#buffer.subarray(this.#start, this.#start + count);
  }

  /** Drops `count` buffered bytes (after {@link peekView}). */
  skip(count: number): void {
    this.#start += Math.min(count, this.buffered);
  }

  /** Copies up to `target.byteLength` bytes into `target`; returns the count (0 at end of stream). */
  async readInto(target: Uint8Array): Promise<number> {
    if (target.byteLength === 0) return 0;
    if (this.buffered === 0 && !await this.#fill()) return 0;
    const count = Math.min(target.byteLength, this.buffered);
    target.set(this.#buffer.subarray(this.#start, this.#start + count));
    this.#start += count;
    return count;
  }

  /** A copy of up to `max` bytes (fewer if less is available); null at end of stream. */
  async readChunk(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !await this.#fill()) return null;
    const count = Math.min(max, this.buffered);
    const out = this.#buffer.slice(this.#start, this.#start + count);
    this.#start += count;
    return out;
  }

  /**
   * Checks that the next byte, already buffered, is `expected` and takes
   * it; false (reading nothing) when no byte is buffered.
   */
  takeExpectedByte(expected: number, what: string): boolean {
    if (this.buffered === 0) return false;
    const actual = this.#buffer[this.#start++];
    if (actual !== expected) throw new Error(`expected ${what}, got byte ${actual}`);
    return true;
  }

  /** Reads one byte and checks it is `expected`. */
  async expectByte(expected: number, what: string): Promise<void> {
    if (this.buffered === 0 && !await this.#fill()) throw new UnexpectedEofError(what);
    const actual = this.#buffer[this.#start++];
    if (actual !== expected) throw new Error(`expected ${what}, got byte ${actual}`);
  }

  /** Cancels the underlying stream. */
  cancel(reason?: unknown): Promise<void> {
    return this.#reader.cancel(reason);
  }

  /** Reads more bytes after the buffered ones; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.byteLength) throw new Error("line longer than the read buffer");
    const { buffer, read } = await readAfter(this.#reader, this.#buffer, this.#end);
    this.#buffer = buffer;
    if (read === null) {
      this.#eof = true;
      return false;
    }
    this.#end += read;
    return true;
  }
}
