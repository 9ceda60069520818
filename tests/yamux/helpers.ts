/**
 * Shared helpers for the Yamux tests: session pairs over an in-memory pipe
 * or a real Unix socket, a checkable byte pattern, and small stream utilities.
 *
 * @module
 */

import { YamuxSession } from "../../src/yamux/session.ts";
import { FrameType, type YamuxConfig } from "../../src/yamux/const.ts";
import { encodeFrame, type FrameHeader, FrameParser } from "../../src/yamux/frame.ts";
import { fromDenoConn, memoryPipe } from "../../src/yamux/transport.ts";

/** The pattern byte at offset i is `i % PATTERN_PERIOD`. */
export const PATTERN_PERIOD = 251;

/** 251 × 256 bytes of pattern starting at offset 0: the default write size. */
export const PATTERN_CHUNK: Uint8Array = Uint8Array.from(
  { length: PATTERN_PERIOD * 256 },
  (_, i) => i % PATTERN_PERIOD,
);

/** About 2 MB of pattern, so any slice up to 1 MiB is a view rather than a copy. */
const PATTERN_SOURCE: Uint8Array = (() => {
  const out = new Uint8Array(PATTERN_PERIOD * 8192);
  for (let at = 0; at < out.length; at += PATTERN_CHUNK.length) out.set(PATTERN_CHUNK, at);
  return out;
})();

/** Two connected sessions plus a cleanup that closes both and waits for them. */
export interface SessionPair {
  /** The session client (odd ids). */
  client: YamuxSession;
  /** The session server (even ids). */
  server: YamuxSession;
  /** Closes both sessions and removes temporary files. */
  close(): Promise<void>;
}

/** A client and a server session joined by an in-memory pipe. */
export function memoryPair(config: Partial<YamuxConfig> = {}): SessionPair {
  const [a, b] = memoryPipe();
  const client = YamuxSession.client(a, config);
  const server = YamuxSession.server(b, config);
  return {
    client,
    server,
    close: async () => {
      await Promise.all([client.close(), server.close()]);
    },
  };
}

/** A client and a server session joined by a Unix socket in a fresh temp dir. */
export async function unixPair(config: Partial<YamuxConfig> = {}): Promise<SessionPair> {
  const dir = await Deno.makeTempDir({ prefix: "yamux-" });
  const path = `${dir}/yamux.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const [clientConn, serverConn] = await Promise.all([
    Deno.connect({ transport: "unix", path }),
    listener.accept(),
  ]);
  listener.close();
  const client = YamuxSession.client(fromDenoConn(clientConn), config);
  const server = YamuxSession.server(fromDenoConn(serverConn), config);
  return {
    client,
    server,
    close: async () => {
      await Promise.all([client.close(), server.close()]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Writes `size` pattern bytes to `writable` and closes it unless `keepOpen`. */
export async function writePattern(
  writable: WritableStream<Uint8Array>,
  size: number,
  options: { keepOpen?: boolean; chunkSize?: number } = {},
): Promise<void> {
  const chunkSize = options.chunkSize ?? PATTERN_CHUNK.length;
  const writer = writable.getWriter();
  try {
    let offset = 0;
    while (offset < size) {
      const length = Math.min(chunkSize, size - offset);
      await writer.write(patternSlice(offset, length));
      offset += length;
    }
    if (!options.keepOpen) await writer.close();
  } finally {
    writer.releaseLock();
  }
}

/** `length` pattern bytes starting at `offset` (a view when possible, else a copy). */
export function patternSlice(offset: number, length: number): Uint8Array {
  const start = offset % PATTERN_PERIOD;
  if (start + length <= PATTERN_SOURCE.length) {
    return PATTERN_SOURCE.subarray(start, start + length);
  }
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (offset + i) % PATTERN_PERIOD;
  return out;
}

/** Result of {@link checkPattern}. */
export interface PatternCheck {
  /** Bytes read. */
  count: number;
  /** Whether every byte matched the pattern. */
  ok: boolean;
}

/** Reads `readable` to its end, checking every byte against the pattern. */
export async function checkPattern(
  readable: ReadableStream<Uint8Array>,
  onChunk?: (chunk: Uint8Array) => void | Promise<void>,
): Promise<PatternCheck> {
  let count = 0;
  let expected = 0;
  let ok = true;
  for await (const chunk of readable) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== expected) ok = false;
      expected = expected === PATTERN_PERIOD - 1 ? 0 : expected + 1;
    }
    count += chunk.length;
    await onChunk?.(chunk);
  }
  return { count, ok };
}

/** Reads `readable` to its end into one buffer. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of readable) parts.push(chunk);
  return concat(parts);
}

/** Reads `readable` to its end as UTF-8 text. */
export async function readText(readable: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readAll(readable));
}

/** Writes `text` and, unless `keepOpen`, closes the writable. */
export async function writeText(
  writable: WritableStream<Uint8Array>,
  text: string,
  keepOpen = false,
): Promise<void> {
  const writer = writable.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    if (!keepOpen) await writer.close();
  } finally {
    writer.releaseLock();
  }
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Waits until `condition()` holds, checking after each macrotask turn. Fails
 * after `limit` turns; it measures progress, not time.
 */
export async function eventually(
  condition: () => boolean,
  what: string,
  limit = 100_000,
): Promise<void> {
  for (let turn = 0; turn < limit; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, turn < 100 ? 0 : 1));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Settles with the outcome of `promise` without throwing. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A small seeded PRNG (mulberry32), so fuzz runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A frame a {@link RawPeer} received, payload joined. */
export interface RawFrame {
  /** The decoded header. */
  header: FrameHeader;
  /** The Data payload (empty for other types). */
  payload: Uint8Array;
}

/**
 * A session under test whose peer is driven by hand: the test writes raw
 * bytes and inspects every frame the session sends.
 */
export class RawPeer {
  /** The session under test. */
  readonly session: YamuxSession;
  /** Every frame received so far, in order. */
  readonly frames: RawFrame[] = [];
  /** True once the session's side of the pipe ended. */
  ended = false;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #kill: () => void;
  readonly #reading: Promise<void>;
  #notify: (() => void) | null = null;

  /** Starts a session in `role` over a memory pipe whose other end the test drives. */
  constructor(role: "client" | "server", config: Partial<YamuxConfig> = {}) {
    const [ours, theirs] = memoryPipe();
    this.session = new YamuxSession(theirs, role, config);
    this.#writer = ours.writable.getWriter();
    this.#kill = () => ours.close();
    this.#reading = this.#readFrames(ours.readable);
  }

  /** Writes raw bytes (frames or garbage) to the session. */
  async send(...chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) await this.#writer.write(chunk);
  }

  /** Writes one frame. */
  sendFrame(type: number, flags: number, streamId: number, length = 0, payload?: Uint8Array) {
    return this.send(encodeFrame({ type, flags, streamId, length }, payload));
  }

  /** Closes our direction (the session sees end of stream). */
  async end(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }

  /** Waits for the first frame (from `from` on) matching `match`; returns its index and frame. */
  async waitFrame(match: (frame: RawFrame) => boolean, from = 0): Promise<RawFrame> {
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.ended) throw new Error("connection ended before the expected frame arrived");
      await new Promise<void>((resolve) => this.#notify = resolve);
    }
  }

  /** Waits for the session's Go Away and returns its code. */
  async goAwayCode(): Promise<number> {
    const frame = await this.waitFrame((f) => f.header.type === FrameType.GoAway);
    return frame.header.length;
  }

  /** Breaks the pipe, closes the session and waits for everything to stop. */
  async close(): Promise<void> {
    this.#kill();
    await this.session.close();
    await this.#reading;
  }

  async #readFrames(readable: ReadableStream<Uint8Array>): Promise<void> {
    let pieces: Uint8Array[] = [];
    const parser = new FrameParser({
      onHeader: () => {
        pieces = [];
      },
      onPayload: (_header, bytes) => pieces.push(bytes.slice()),
      onFrameEnd: (header) => {
        this.frames.push({ header, payload: concat(pieces) });
        this.#wake();
      },
    });
    try {
      for await (const chunk of readable) parser.push(chunk);
    } catch {
      // The pipe was killed.
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #wake(): void {
    const notify = this.#notify;
    this.#notify = null;
    notify?.();
  }
}
