/**
 * The 12-byte Yamux frame header codec and an incremental frame parser that
 * accepts the byte stream in chunks split anywhere.
 *
 * @module
 */

import { FrameType, HEADER_SIZE, PROTO_VERSION, YamuxProtocolError } from "./const.ts";

/** A decoded frame header. */
export interface FrameHeader {
  /** Protocol version (always 0 on valid frames). */
  version: number;
  /** Frame type, see {@link FrameType}. */
  type: number;
  /** OR-ed {@link Flag} bits. */
  flags: number;
  /** Stream id; 0 addresses the session. */
  streamId: number;
  /** Payload length (Data), increment (Window Update), opaque (Ping) or code (Go Away). */
  length: number;
}

/** Writes a header into `target` at `offset` (a fresh buffer when omitted) and returns `target`. */
export function encodeHeader(
  type: number,
  flags: number,
  streamId: number,
  length: number,
  target: Uint8Array = new Uint8Array(HEADER_SIZE),
  offset = 0,
): Uint8Array {
  target[offset] = PROTO_VERSION;
  target[offset + 1] = type;
  target[offset + 2] = flags >>> 8;
  target[offset + 3] = flags;
  writeUint32(target, offset + 4, streamId);
  writeUint32(target, offset + 8, length);
  return target;
}

/** Reads the header at `offset` without validating it. */
export function decodeHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  return {
    version: bytes[offset],
    type: bytes[offset + 1],
    flags: (bytes[offset + 2] << 8) | bytes[offset + 3],
    streamId: readUint32(bytes, offset + 4),
    length: readUint32(bytes, offset + 8),
  };
}

/** Encodes a whole frame (header plus optional Data payload) into one buffer. */
export function encodeFrame(
  header: Omit<FrameHeader, "version" | "length"> & { length?: number },
  payload?: Uint8Array,
): Uint8Array {
  const size = payload?.length ?? 0;
  const out = new Uint8Array(HEADER_SIZE + size);
  encodeHeader(header.type, header.flags, header.streamId, header.length ?? size, out);
  if (payload) out.set(payload, HEADER_SIZE);
  return out;
}

/** Throws {@link YamuxProtocolError} unless the header has our version and a known type. */
export function validateHeader(header: FrameHeader): void {
  if (header.version !== PROTO_VERSION) {
    throw new YamuxProtocolError(`invalid protocol version ${header.version}`);
  }
  if (header.type > FrameType.GoAway) {
    throw new YamuxProtocolError(`invalid frame type ${header.type}`);
  }
}

/** Receives the frames a {@link FrameParser} finds, in wire order. */
export interface FrameHandler {
  /** A complete, validated header. Throwing aborts parsing. */
  onHeader(header: FrameHeader): void;
  /**
   * A piece of a Data frame's payload. `bytes` is a view into the parser's
   * input and is valid only during the call: copy it to keep it.
   */
  onPayload(header: FrameHeader, bytes: Uint8Array): void;
  /** The frame (header and all of its payload) is complete. */
  onFrameEnd(header: FrameHeader): void;
}

/**
 * Turns a byte stream, delivered in arbitrary chunks, into frame events.
 * Data payloads are passed through in pieces as they arrive, so the parser
 * itself never buffers more than one partial header.
 */
export class FrameParser {
  readonly #handler: FrameHandler;
  readonly #partial = new Uint8Array(HEADER_SIZE);
  #partialFill = 0;
  #current: FrameHeader | null = null;
  #remaining = 0;
  #failed: Error | null = null;

  /** Creates a parser that reports to `handler`. */
  constructor(handler: FrameHandler) {
    this.#handler = handler;
  }

  /** True when the parser sits exactly on a frame boundary. */
  get atBoundary(): boolean {
    return this.#partialFill === 0 && this.#current === null;
  }

  /** Feeds the next chunk of the byte stream; throws the first error a frame or handler raised. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#consume(chunk);
    } catch (error) {
      this.#failed = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  /** Signals the end of the byte stream; throws if it stopped inside a frame. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.#partialFill > 0) {
      this.#failed = new YamuxProtocolError(`truncated frame header (${this.#partialFill} bytes)`);
      throw this.#failed;
    }
    if (this.#current) {
      this.#failed = new YamuxProtocolError(
        `truncated data frame (${this.#remaining} bytes short)`,
      );
      throw this.#failed;
    }
  }

  #consume(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#current) {
        offset = this.#consumePayload(chunk, offset);
      } else {
        offset = this.#consumeHeader(chunk, offset);
      }
    }
  }

  #consumePayload(chunk: Uint8Array, offset: number): number {
    const header = this.#current!;
    const take = Math.min(this.#remaining, chunk.length - offset);
    this.#remaining -= take;
    this.#handler.onPayload(header, chunk.subarray(offset, offset + take));
    if (this.#remaining === 0) this.#finishFrame(header);
    return offset + take;
  }

  #consumeHeader(chunk: Uint8Array, offset: number): number {
    let header: FrameHeader;
    if (this.#partialFill === 0 && chunk.length - offset >= HEADER_SIZE) {
      header = decodeHeader(chunk, offset);
      offset += HEADER_SIZE;
    } else {
      const take = Math.min(HEADER_SIZE - this.#partialFill, chunk.length - offset);
      this.#partial.set(chunk.subarray(offset, offset + take), this.#partialFill);
      this.#partialFill += take;
      offset += take;
      if (this.#partialFill < HEADER_SIZE) return offset;
      this.#partialFill = 0;
      header = decodeHeader(this.#partial);
    }
    this.#startFrame(header);
    return offset;
  }

  #startFrame(header: FrameHeader): void {
    validateHeader(header);
    this.#handler.onHeader(header);
    if (header.type === FrameType.Data && header.length > 0) {
      this.#current = header;
      this.#remaining = header.length;
    } else {
      this.#handler.onFrameEnd(header);
    }
  }

  #finishFrame(header: FrameHeader): void {
    this.#current = null;
    this.#handler.onFrameEnd(header);
  }
}

function writeUint32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24;
  target[offset + 1] = value >>> 16;
  target[offset + 2] = value >>> 8;
  target[offset + 3] = value;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] * 0x1000000) +
    ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
  );
}
