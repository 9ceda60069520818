/**
 * Responses encoded by hand, several gRPC messages to one write: for
 * listings that send thousands of small messages (references, branches,
 * tags), where protobufjs' `fromObject` and `encode` of every message, and
 * grpc-js' and HTTP/2's work per written message, cost more than building
 * the answer.
 *
 * A handler fills {@link ResponseFrames} (each message between
 * {@link ResponseFrames.begin} and {@link ResponseFrames.end}, written with
 * the {@link ProtoWriter} it gets) and sends {@link ResponseFrames.take}'s
 * {@link EncodedResponses} instead of a message object. The response
 * serializer hands its bytes, gRPC prefixes included, to grpc-js as they are
 * (see `src/server/preframed.ts`); the client receives exactly the messages
 * it would have received one by one. Fields are written as Go's protobuf
 * writes them: in field order, fields holding their default value left out.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { varintSize, writeVarint } from "./bulk_bytes.ts";
import { EncodedResponses } from "./encoded_responses.ts";

export { EncodedResponses };
import type protobuf from "./protobuf.ts";

/** gRPC's message prefix: one flag byte (0, uncompressed) and a 4-byte big-endian length. */
const GRPC_PREFIX = 5;

const encoder = new TextEncoder();

/** Wire type of length-delimited fields (bytes, strings, messages). */
const LENGTH_DELIMITED = 2;

/** Protobuf encoding into one growing buffer. */
export class ProtoWriter {
  #buffer: Buffer;
  #at = 0;

  constructor(initialSize = 64 * 1024) {
    this.#buffer = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#at;
  }

  /** Writes a varint (a non-negative integer below 2^53). */
  varint(value: number): void {
    this.#reserve(10);
    const buffer = this.#buffer;
    let at = this.#at;
    while (value >= 0x80) {
      buffer[at++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    buffer[at++] = value;
    this.#at = at;
  }

  /** The header of length-delimited field `field` holding `length` bytes. */
  header(field: number, length: number): void {
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.varint(length);
  }

  /** A bytes (or UTF-8 string) field; nothing when `bytes` is empty. */
  bytes(field: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.header(field, bytes.byteLength);
    this.raw(bytes);
  }

  /** A bytes (or UTF-8 string) field holding `source[start..end)`; nothing when empty. */
  bytesOf(field: number, source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    this.header(field, length);
    this.#reserve(length);
    if (length > 64) {
      this.#buffer.set(source.subarray(start, end), this.#at);
    } else {
      // Short fields (names, object ids): a loop is cheaper than a view to copy from.
      const buffer = this.#buffer;
      for (let i = start, at = this.#at; i < end; i++, at++) buffer[at] = source[i];
    }
    this.#at += length;
  }

  /** A string field holding only ASCII (object ids); nothing when empty. */
  ascii(field: number, text: string): void {
    if (text.length === 0) return;
    this.header(field, text.length);
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#at;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#at = at;
  }

  /** A varint field (int32, int64, enum); nothing when 0. */
  uint(field: number, value: number): void {
    if (value === 0) return;
    this.varint(field << 3);
    this.varint(value);
  }

  /** A string field (UTF-8); nothing when empty. */
  string(field: number, text: string): void {
    if (text.length === 0) return;
    // At most 3 bytes a UTF-16 unit: the length's varint is sized for that bound.
    const bound = text.length * 3;
    const lengthSize = varintSize(bound);
    this.varint((field << 3) | LENGTH_DELIMITED);
    this.#reserve(lengthSize + bound);
    const dataAt = this.#at + lengthSize;
    const { written } = encoder.encodeInto(text, this.#buffer.subarray(dataAt));
    const end = writeVarint(this.#buffer, this.#at, written);
    // A length shorter than the bound's varint: move the data back.
    if (end !== dataAt) this.#buffer.copyWithin(end, dataAt, dataAt + written);
    this.#at = end + written;
  }

  /** An int32 (or enum) field; nothing when 0. Negative values take ten bytes, as in protobuf. */
  int32(field: number, value: number): void {
    value |= 0;
    if (value === 0) return;
    this.varint(field << 3);
    if (value > 0) {
      this.varint(value);
      return;
    }
    // Two's complement over 64 bits: the low 32 bits, then all ones.
    this.#reserve(10);
    const buffer = this.#buffer;
    let low = value >>> 0;
    for (let i = 0; i < 4; i++) {
      buffer[this.#at++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    buffer[this.#at++] = (low & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) buffer[this.#at++] = 0xff;
    buffer[this.#at++] = 0x01;
  }

  /** A bool field; nothing when false. */
  bool(field: number, value: boolean): void {
    if (!value) return;
    this.varint(field << 3);
    this.varint(1);
  }

  /** Already encoded bytes (a sub-message's fields, after its {@link header}). */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength);
    this.#buffer.set(bytes, this.#at);
    this.#at += bytes.byteLength;
  }

  /** Writes the 4-byte big-endian `value` at `at` (before the end). */
  patchUint32(at: number, value: number): void {
    this.#buffer.writeUInt32BE(value, at);
  }

  /** Writes the byte `value` at `at` (before the end). */
  patchByte(at: number, value: number): void {
    this.#buffer[at] = value;
  }

  /** Drops what was written after the first `length` bytes. */
  truncate(length: number): void {
    this.#at = Math.min(this.#at, length);
  }

  /** Skips `count` bytes, to be patched later. */
  skip(count: number): void {
    this.#reserve(count);
    this.#at += count;
  }

  /** Everything written, as a view; the writer starts over with a new buffer. */
  take(): Buffer {
    const out = this.#buffer.subarray(0, this.#at);
    this.#buffer = Buffer.allocUnsafe(Math.max(this.#buffer.byteLength, 1024));
    this.#at = 0;
    return out;
  }

  /** A copy of everything written; the writer starts over in the same buffer. */
  copy(): Uint8Array {
    const out = new Uint8Array(this.#at);
    out.set(this.#buffer.subarray(0, this.#at));
    this.#at = 0;
    return out;
  }

  #reserve(count: number): void {
    if (this.#at + count <= this.#buffer.byteLength) return;
    let size = this.#buffer.byteLength * 2;
    while (size < this.#at + count) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.#buffer.copy(bigger, 0, 0, this.#at);
    this.#buffer = bigger;
  }
}

/** Size of length-delimited field `field` holding `length` bytes, header included. */
export function fieldSize(field: number, length: number): number {
  return varintSize((field << 3) | LENGTH_DELIMITED) + varintSize(length) + length;
}

/**
 * Runs `fill` with new {@link ResponseFrames} and sends what it gathered
 * with `send`: at the end, and when `fill` fails, the messages it completed
 * before the error (as if each had been sent on its own).
 */
export async function withResponseFrames(
  send: (responses: EncodedResponses) => Promise<void>,
  fill: (frames: ResponseFrames) => Promise<void>,
): Promise<void> {
  const frames = new ResponseFrames();
  try {
    await fill(frames);
  } catch (error) {
    await frames.flush(send).catch(() => {});
    throw error;
  }
  await frames.flush(send);
}

/** {@link fieldSize} of a bytes (or string) field holding `bytes`: 0 when empty (left out). */
export function bytesFieldSize(field: number, bytes: Uint8Array): number {
  return bytes.byteLength === 0 ? 0 : fieldSize(field, bytes.byteLength);
}

/** How many bytes of messages {@link ResponseFrames} gathers before they should be sent. */
export const FRAMES_BATCH_SIZE = 64 * 1024;

/** Builds {@link EncodedResponses}: messages one after the other. */
export class ResponseFrames {
  readonly #writer = new ProtoWriter();
  #count = 0;
  #start = -1;

  /** `batchSize`: from how many bytes on {@link full} says to send. */
  constructor(readonly batchSize = FRAMES_BATCH_SIZE) {}

  /** Whether the messages gathered reach the batch size. */
  get full(): boolean {
    return this.#writer.length >= this.batchSize;
  }

  /**
   * Sends the messages ended since the last take, if any, with `send`; a
   * message begun and not ended (its encoding failed) is dropped.
   */
  async flush(send: (responses: EncodedResponses) => Promise<void>): Promise<void> {
    if (this.#start >= 0) {
      this.#writer.truncate(this.#start - GRPC_PREFIX);
      this.#start = -1;
    }
    if (this.#count > 0) await send(this.take());
  }

  /** Starts a message; its fields go to the writer returned. */
  begin(): ProtoWriter {
    if (this.#start >= 0) throw new Error("ResponseFrames: message already begun");
    this.#writer.skip(GRPC_PREFIX);
    this.#start = this.#writer.length;
    return this.#writer;
  }

  /** Ends the message begun last. */
  end(): void {
    const start = this.#start;
    if (start < 0) throw new Error("ResponseFrames: no message begun");
    this.#writer.patchByte(start - GRPC_PREFIX, 0);
    this.#writer.patchUint32(start - GRPC_PREFIX + 1, this.#writer.length - start);
    this.#start = -1;
    this.#count++;
  }

  /** Messages ended and not taken yet. */
  get count(): number {
    return this.#count;
  }

  /** Bytes of the messages not taken yet. */
  get size(): number {
    return this.#writer.length;
  }

  /** The messages ended since the last take (none may be begun and not ended). */
  take(): EncodedResponses {
    if (this.#start >= 0) throw new Error("ResponseFrames: message not ended");
    const out = new EncodedResponses(this.#writer.take(), this.#count);
    this.#count = 0;
    return out;
  }
}

/**
 * `value` (a message object of `type`) encoded as Go encodes it: fields
 * holding their default value left out.
 */
export function encodeMessage(type: protobuf.Type, value: unknown): Uint8Array {
  return type.encode(type.fromObject(withoutDefaults(value) as Record<string, unknown>)).finish();
}

/** Go's `proto.Size` of `value`, a message object of `type`. */
export function encodedSize(type: protobuf.Type, value: unknown): number {
  return type.encode(type.fromObject(withoutDefaults(value) as Record<string, unknown>)).len;
}

/**
 * A copy of a message object without the fields proto3 leaves off the wire
 * (zero numbers and enums, false, empty strings, bytes and lists, null), so
 * that its encoded size is Go's `proto.Size` of the same message: an
 * explicitly set default would otherwise count 2 bytes or more.
 */
function withoutDefaults(value: unknown): unknown {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(withoutDefaults);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (
      field === null || field === undefined || field === 0 || field === false || field === "" ||
      ((field instanceof Uint8Array || Array.isArray(field)) && field.length === 0)
    ) continue;
    out[key] = withoutDefaults(field);
  }
  return out;
}
