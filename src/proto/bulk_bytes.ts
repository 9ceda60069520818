/**
 * Lent bulk buffers: the bytes of a response whose only field is one large
 * bytes field (a chunk of git's stdout) travel from the chunker to the
 * socket without being copied or allocated per message.
 *
 * A {@link BulkBufferPool} hands out buffers with {@link FRAME_HEADROOM}
 * free bytes in front. Once filled, the data is lent as a view after the
 * headroom ({@link BulkBufferPool.lend}). The response serializer then
 * writes the protobuf field header and gRPC's 5-byte message prefix into
 * the headroom ({@link frameInPlace}) and grpc-js sends that frame as it is
 * (see `src/server/preframed.ts`). When the server has written the message
 * it gives the buffer back ({@link giveBackLent}) for the next message. A
 * lent view that is never given back (its call was cancelled, the sink did
 * not send it) is simply collected as garbage.
 *
 * Whoever sends a lent view must not keep it: after the write its bytes
 * belong to another message.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * Bytes kept free before a lent view: gRPC's prefix (5), a field tag (at
 * most 2 bytes for field numbers below 2048) and a length varint (at most 5).
 */
export const FRAME_HEADROOM = 12;

/** gRPC's message prefix: one flag byte (0, uncompressed) and a 4-byte big-endian length. */
const GRPC_PREFIX = 5;

/** The pool each lent view belongs to, and the whole buffer it is a view of. */
const lent = new WeakMap<Uint8Array, { pool: BulkBufferPool; whole: Uint8Array }>();
/** Frames made by {@link frameInPlace}, already carrying gRPC's prefix. */
const framed = new WeakSet<Uint8Array>();

/** Reusable buffers of `size` bytes (plus headroom) for lent bulk messages. */
export class BulkBufferPool {
  readonly #free: Uint8Array[] = [];

  /** `keep`: how many given-back buffers to hold for reuse at most. */
  constructor(readonly size: number, readonly keep: number = 16) {}

  /**
   * A whole buffer of `FRAME_HEADROOM + size` bytes, reused when one was
   * given back; its data goes at offset {@link FRAME_HEADROOM}.
   */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(FRAME_HEADROOM + this.size);
  }

  /** Lends the `filled` data bytes of `whole` (from {@link take}) as a view after the headroom. */
  lend(whole: Uint8Array, filled: number): Uint8Array {
    const view = whole.subarray(FRAME_HEADROOM, FRAME_HEADROOM + filled);
    lent.set(view, { pool: this, whole });
    return view;
  }

  /** Takes a buffer back (from {@link giveBackLent}). */
  put(whole: Uint8Array): void {
    if (this.#free.length < this.keep && whole.byteLength === FRAME_HEADROOM + this.size) {
      this.#free.push(whole);
    }
  }
}

/** Whether `bytes` is a view lent by a {@link BulkBufferPool} and not yet given back. */
export function isLent(bytes: Uint8Array): boolean {
  return lent.has(bytes);
}

/**
 * Encodes a message consisting of field `fieldId` (wire type 2) holding the
 * lent view `bytes`, with gRPC's 5-byte prefix, into the headroom before the
 * view: returns the whole frame (no copy), or undefined when `bytes` is not
 * lent.
 */
export function frameInPlace(bytes: Uint8Array, fieldId: number): Buffer | undefined {
  const owner = lent.get(bytes);
  if (!owner) return undefined;
  const tag = (fieldId << 3) | 2;
  const header = varintSize(tag) + varintSize(bytes.byteLength);
  const start = bytes.byteOffset - owner.whole.byteOffset - header - GRPC_PREFIX;
  if (start < 0) return undefined;
  const whole = owner.whole;
  const messageLength = header + bytes.byteLength;
  whole[start] = 0;
  whole[start + 1] = messageLength >>> 24;
  whole[start + 2] = (messageLength >>> 16) & 0xff;
  whole[start + 3] = (messageLength >>> 8) & 0xff;
  whole[start + 4] = messageLength & 0xff;
  writeVarint(whole, writeVarint(whole, start + GRPC_PREFIX, tag), bytes.byteLength);
  const frame = Buffer.from(whole.buffer, whole.byteOffset + start, GRPC_PREFIX + messageLength);
  framed.add(frame);
  return frame;
}

/**
 * Marks `frames` (one or more messages, each with gRPC's prefix) as ready
 * to send as they are, like a result of {@link frameInPlace}.
 */
export function markFramed(frames: Uint8Array): void {
  framed.add(frames);
}

/** Whether `serialized` came from {@link frameInPlace} or {@link markFramed} (it already has gRPC's prefix). */
export function isFramed(serialized: Uint8Array): boolean {
  return framed.has(serialized);
}

/**
 * Gives the lent views among `message`'s own fields back to their pools,
 * once the message has been written and nothing reads them any more.
 */
export function giveBackLent(message: unknown): void {
  if (typeof message !== "object" || message === null) return;
  for (const key in message) {
    const value = (message as Record<string, unknown>)[key];
    if (!(value instanceof Uint8Array)) continue;
    const owner = lent.get(value);
    if (!owner) continue;
    lent.delete(value);
    owner.pool.put(owner.whole);
  }
}

/** Size of `value` as a protobuf varint. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes `value` as a protobuf varint at `at`; returns the offset after it. */
export function writeVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  target[at++] = value;
  return at;
}
