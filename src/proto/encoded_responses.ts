/**
 * Responses a handler encodes itself, gRPC prefix and all, several to one
 * write: for RPCs that stream thousands of small messages (a `CommitDiff`
 * of 5,000 files), where protobufjs's encoding and one grpc-js write (and
 * HTTP/2 DATA frame, and socket write) per message cost more than the
 * work itself. The client sees the same messages: gRPC's framing is a
 * plain sequence of length-prefixed messages in the stream's DATA, and how
 * they are cut into writes means nothing.
 *
 * A handler fills a {@link ResponseWriter} message by message, fields in
 * field-number order and, as Go's encoder does, none holding its default
 * (empty, zero, false), then sends what {@link ResponseWriter.take} gives:
 * an {@link EncodedResponses}, which the response serializer passes
 * through as already framed (see `src/server/preframed.ts`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { markFramed, varintSize, writeVarint } from "./bulk_bytes.ts";

/** gRPC's message prefix: one flag byte (0, uncompressed) and a 4-byte big-endian length. */
const GRPC_PREFIX = 5;

/** Several encoded responses, each with gRPC's prefix, to send as one write. */
export class EncodedResponses {
  /** `frames`: the framed messages back to back; `count`: how many. */
  constructor(readonly frames: Buffer, readonly count: number) {
    markFramed(frames);
  }

  /** The message bodies (without their gRPC prefixes), as views. */
  messages(): Uint8Array[] {
    const frames = this.frames;
    const out: Uint8Array[] = [];
    for (let at = 0; at < frames.byteLength;) {
      const length = frames.readUInt32BE(at + 1);
      out.push(frames.subarray(at + GRPC_PREFIX, at + GRPC_PREFIX + length));
      at += GRPC_PREFIX + length;
    }
    return out;
  }
}

const encoder = new TextEncoder();

/**
 * Builds framed messages into one growing buffer. Call {@link begin},
 * the field writers, {@link end} for each message; {@link take} hands out
 * what was built and starts over.
 */
export class ResponseWriter {
  #buffer = Buffer.allocUnsafe(64 * 1024);
  #at = 0;
  #messageStart = -1;
  #count = 0;

  /** Bytes built so far. */
  get size(): number {
    return this.#at;
  }

  /** Messages built so far. */
  get count(): number {
    return this.#count;
  }

  /** Starts a message. */
  begin(): void {
    this.#messageStart = this.#at;
    this.#reserve(GRPC_PREFIX);
    this.#at += GRPC_PREFIX;
  }

  /** Ends the message {@link begin} started, writing its prefix. */
  end(): void {
    const start = this.#messageStart;
    const buffer = this.#buffer;
    buffer[start] = 0;
    buffer.writeUInt32BE(this.#at - start - GRPC_PREFIX, start + 1);
    this.#messageStart = -1;
    this.#count++;
  }

  /** A `bytes` field, unless empty. */
  bytes(field: number, value: Uint8Array): void {
    if (value.byteLength === 0) return;
    this.#reserve(10 + value.byteLength);
    this.#at = writeVarint(this.#buffer, this.#at, (field << 3) | 2);
    this.#at = writeVarint(this.#buffer, this.#at, value.byteLength);
    this.#buffer.set(value, this.#at);
    this.#at += value.byteLength;
  }

  /** A `string` field, unless empty. */
  string(field: number, value: string): void {
    if (value.length === 0) return;
    // At most 3 bytes a UTF-16 unit; the length's varint is sized for that bound.
    const bound = value.length * 3;
    const lengthSize = varintSize(bound);
    this.#reserve(5 + lengthSize + bound);
    this.#at = writeVarint(this.#buffer, this.#at, (field << 3) | 2);
    const dataAt = this.#at + lengthSize;
    const { written } = encoder.encodeInto(value, this.#buffer.subarray(dataAt));
    if (varintSize(written) === lengthSize) {
      writeVarint(this.#buffer, this.#at, written);
    } else {
      // The length's varint is shorter than the bound's: move the data back.
      const end = writeVarint(this.#buffer, this.#at, written);
      this.#buffer.copyWithin(end, dataAt, dataAt + written);
      this.#at = end - lengthSize;
    }
    this.#at += lengthSize + written;
  }

  /** An `int32` field, unless zero (negative values take ten bytes, as in protobuf). */
  int32(field: number, value: number): void {
    value |= 0;
    if (value === 0) return;
    this.#reserve(15);
    this.#at = writeVarint(this.#buffer, this.#at, field << 3);
    if (value > 0) {
      this.#at = writeVarint(this.#buffer, this.#at, value);
      return;
    }
    // Two's complement over 64 bits: the low 32 bits, then all ones.
    let low = value >>> 0;
    for (let i = 0; i < 4; i++) {
      this.#buffer[this.#at++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    this.#buffer[this.#at++] = (low & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) this.#buffer[this.#at++] = 0xff;
    this.#buffer[this.#at++] = 0x01;
  }

  /** A `bool` field, unless false. */
  bool(field: number, value: boolean): void {
    if (!value) return;
    this.#reserve(6);
    this.#at = writeVarint(this.#buffer, this.#at, field << 3);
    this.#buffer[this.#at++] = 1;
  }

  /** The messages built so far (a copy), to send; the writer starts over. */
  take(): EncodedResponses {
    const out = new EncodedResponses(Buffer.from(this.#buffer.subarray(0, this.#at)), this.#count);
    this.#at = 0;
    this.#count = 0;
    return out;
  }

  #reserve(count: number): void {
    const needed = this.#at + count;
    if (needed <= this.#buffer.byteLength) return;
    let length = this.#buffer.byteLength * 2;
    while (length < needed) length *= 2;
    const bigger = Buffer.allocUnsafe(length);
    this.#buffer.copy(bigger, 0, 0, this.#at);
    this.#buffer = bigger;
  }
}
