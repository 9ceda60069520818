/**
 * Packfile negotiation statistics, as Gitaly reports them from the upload
 * RPCs: what the client's request asked for (wants, haves, shallows,
 * deepen, filter, capabilities), parsed from the pkt-lines git reads on
 * its stdin while they flow past. Only one packet is ever held.
 *
 * @module
 */
import type { PackfileNegotiationStatistics } from "../../proto/types.ts";

/** Largest packet Gitaly's scanner accepts (length header included). */
const MAX_PACKET = 65520;

const decoder = new TextDecoder();

/** The statistics of one request. */
export type NegotiationStats = PackfileNegotiationStatistics;

/** Empty statistics (what Gitaly reports when parsing failed). */
export function emptyNegotiationStats(): NegotiationStats {
  return {
    payload_size: 0,
    packets: 0,
    caps: [],
    wants: 0,
    haves: 0,
    shallows: 0,
    deepen: "",
    filter: "",
  };
}

/**
 * Incremental parser: feed it the request bytes with {@link push}, then
 * call {@link finish}. It stops looking after `done` or the first error,
 * the way Gitaly's parser does, so statistics stay what had been counted.
 */
export class NegotiationParser {
  /** Counted so far (final after {@link finish}). */
  readonly stats: NegotiationStats = emptyNegotiationStats();
  #error?: string;
  #stopped = false;
  #pending = new Uint8Array(0);

  /** Why parsing failed, if it did (after {@link finish}). */
  get error(): string | undefined {
    return this.#error;
  }

  /** Consumes request bytes. */
  push(chunk: Uint8Array): void {
    if (this.#stopped || chunk.byteLength === 0) return;
    let data = this.#pending.byteLength === 0 ? chunk : join(this.#pending, chunk);
    while (!this.#stopped) {
      if (data.byteLength < 4) break;
      const length = parseLength(data);
      if (length === undefined || length > MAX_PACKET) {
        return this.#fail(`pktLineSplitter: invalid length header`);
      }
      const size = length < 4 ? 4 : length;
      if (data.byteLength < size) break;
      this.#packet(length < 4 ? new Uint8Array(0) : data.subarray(4, length));
      data = data.subarray(size);
    }
    // Keep only the unfinished packet (a copy: the caller may reuse its chunk).
    this.#pending = this.#stopped ? new Uint8Array(0) : data.slice();
  }

  /** The request ended: checks for a truncated packet and for wants. */
  finish(): void {
    if (this.#stopped) return;
    if (this.#pending.byteLength > 0) return this.#fail("unexpected EOF");
    this.#stopped = true;
    if (this.stats.wants === 0) this.#error = "no 'want' sent by client";
  }

  #packet(payload: Uint8Array): void {
    const text = decoder.decode(chomp(payload));
    const fields = text.split(" ");
    const stats = this.stats;
    stats.payload_size += chomp(payload).byteLength;
    switch (fields[0]) {
      case "want":
        if (fields.length < 2) return this.#fail(`invalid 'want' for packet ${stats.packets}`);
        if (fields.length > 2 && stats.caps.length > 0) {
          return this.#fail(`capabilities announced multiple times in packet ${stats.packets}`);
        }
        stats.wants++;
        if (fields.length > 2) stats.caps = fields.slice(2);
        break;
      case "shallow":
        if (fields.length !== 2) return this.#fail(`invalid 'shallow' for packet ${stats.packets}`);
        stats.shallows++;
        break;
      case "deepen":
      case "deepen-since":
      case "deepen-not":
        if (fields.length !== 2) return this.#fail(`invalid 'deepen' for packet ${stats.packets}`);
        stats.deepen = text;
        break;
      case "filter":
        if (fields.length !== 2) return this.#fail(`invalid 'filter' for packet ${stats.packets}`);
        stats.filter = fields[1];
        break;
      case "have":
        if (fields.length !== 2) return this.#fail(`invalid 'have' for packet ${stats.packets}`);
        stats.haves++;
        break;
      case "done":
        this.#stopped = true; // `done` itself is not counted
        return;
    }
    stats.packets++;
  }

  #fail(message: string): void {
    this.#stopped = true;
    this.#error ??= message;
  }
}

/** Parses a whole request (for tests and small inputs). */
export function parseNegotiation(request: Uint8Array): NegotiationParser {
  const parser = new NegotiationParser();
  parser.push(request);
  parser.finish();
  return parser;
}

/**
 * Passes `source` through unchanged while `parser` watches it; the parser
 * is finished when the stream ends (or is cancelled by its reader).
 */
export function observeNegotiation(
  source: ReadableStream<Uint8Array>,
  parser: NegotiationParser,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        parser.finish();
        controller.close();
        return;
      }
      parser.push(value);
      controller.enqueue(value);
    },
    cancel(reason) {
      parser.finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Four hex digits (Go's `ParseInt(s, 16)`, so a sign is allowed); undefined when invalid. */
function parseLength(data: Uint8Array): number | undefined {
  const text = String.fromCharCode(data[0], data[1], data[2], data[3]);
  if (!/^[+-]?[0-9a-fA-F]+$/.test(text)) return undefined;
  const value = parseInt(text, 16);
  return value < 0 ? undefined : value;
}

function chomp(payload: Uint8Array): Uint8Array {
  const last = payload.byteLength - 1;
  return last >= 0 && payload[last] === 0x0a ? payload.subarray(0, last) : payload;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
