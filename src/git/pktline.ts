/**
 * Git's pkt-line framing: a 4-hex-digit length (payload + 4) followed by the
 * payload, plus the special packets flush `0000`, delim `0001` and
 * response-end `0002`. Also side-band framing (a band byte in front of the
 * payload) as used by upload-pack's side-band-64k.
 *
 * @module
 */

/** Largest whole packet git accepts (length header included). */
export const MAX_PKT_SIZE = 65520;
/** Largest payload of one data packet. */
export const MAX_PKT_PAYLOAD = MAX_PKT_SIZE - 4;
/** Largest data of one side-band packet (the band byte takes one payload byte). */
export const MAX_SIDEBAND_DATA = MAX_PKT_PAYLOAD - 1;

/** One decoded packet. Data payloads may be views into the decoder's input chunks. */
export type PktLine =
  | { type: "data"; payload: Uint8Array }
  | { type: "flush" }
  | { type: "delim" }
  | { type: "response-end" };

/** Side-band channels: 1 pack data / stdout, 2 progress / stderr, 3 fatal error. */
export type SidebandBand = 1 | 2 | 3;

/** Malformed pkt-line input. */
export class PktLineError extends Error {
  /** Creates the error with a description of what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "PktLineError";
  }
}

const encoder = new TextEncoder();
const HEX = "0123456789abcdef";

/** A fresh flush packet `0000`. */
export function flushPkt(): Uint8Array {
  return encoder.encode("0000");
}

/** A fresh delim packet `0001`. */
export function delimPkt(): Uint8Array {
  return encoder.encode("0001");
}

/** A fresh response-end packet `0002`. */
export function responseEndPkt(): Uint8Array {
  return encoder.encode("0002");
}

/** Frames one payload (at most {@link MAX_PKT_PAYLOAD} bytes) as a data packet. */
export function encodePktLine(payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  if (bytes.byteLength > MAX_PKT_PAYLOAD) {
    throw new PktLineError(
      `pkt-line payload of ${bytes.byteLength} bytes exceeds ${MAX_PKT_PAYLOAD}`,
    );
  }
  const out = new Uint8Array(bytes.byteLength + 4);
  writeLengthHeader(out, 0, bytes.byteLength + 4);
  out.set(bytes, 4);
  return out;
}

/**
 * Frames `data` as side-band packets on `band`, splitting it so that no
 * packet exceeds `maxPacketSize` bytes (65520 for side-band-64k, 1000 for
 * the old side-band). Returns one buffer holding all packets; empty data
 * gives an empty buffer.
 */
export function encodeSideband(
  band: SidebandBand,
  data: Uint8Array,
  maxPacketSize: number = MAX_PKT_SIZE,
): Uint8Array {
  return framePackets(data, maxPacketSize - 5, band);
}

/** Splits a side-band packet's payload into its band and data. */
export function decodeSideband(payload: Uint8Array): { band: SidebandBand; data: Uint8Array } {
  const band = payload[0];
  if (payload.byteLength === 0 || band < 1 || band > 3) {
    throw new PktLineError(`invalid side-band packet (band ${band ?? "missing"})`);
  }
  return { band: band as SidebandBand, data: payload.subarray(1) };
}

/** Options of {@link PktLineFramer}. */
export interface PktLineFramerOptions {
  /** Prefix every packet with this side-band byte. */
  band?: SidebandBand;
  /** Largest payload per packet (band byte included). Default {@link MAX_PKT_PAYLOAD}. */
  maxPayload?: number;
  /** Append a flush packet when the input ends. */
  flushAtEnd?: boolean;
}

/**
 * Frames a byte stream into pkt-lines: each input chunk becomes one output
 * buffer holding as many packets as it needs.
 */
export class PktLineFramer extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates a framer; see {@link PktLineFramerOptions}. */
  constructor(options: PktLineFramerOptions = {}) {
    const maxPayload = options.maxPayload ?? MAX_PKT_PAYLOAD;
    if (maxPayload < 2 || maxPayload > MAX_PKT_PAYLOAD) {
      throw new RangeError(`maxPayload must be in 2..${MAX_PKT_PAYLOAD}`);
    }
    const maxData = options.band ? maxPayload - 1 : maxPayload;
    super({
      transform(chunk, controller) {
        if (chunk.byteLength > 0) controller.enqueue(framePackets(chunk, maxData, options.band));
      },
      flush(controller) {
        if (options.flushAtEnd) controller.enqueue(flushPkt());
      },
    });
  }
}

/**
 * Decodes a byte stream into packets, whatever the chunk boundaries.
 * Rejects non-hex lengths, `0003`, lengths over {@link MAX_PKT_SIZE} and
 * input that ends inside a packet.
 */
export class PktLineDecoder extends TransformStream<Uint8Array, PktLine> {
  /** Creates a decoder. */
  constructor() {
    const state = new DecoderState();
    super({
      transform(chunk, controller) {
        state.push(chunk, (pkt) => controller.enqueue(pkt));
      },
      flush() {
        state.finish();
      },
    });
  }
}

/** Iterates the packets of a byte stream (see {@link PktLineDecoder}). */
export async function* readPktLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<PktLine, void, undefined> {
  yield* stream.pipeThrough(new PktLineDecoder());
}

/** Incremental decoder: whole packets are emitted as views, split ones are assembled. */
class DecoderState {
  /** A packet split across chunks: header + payload as far as received. */
  #partial?: Uint8Array;
  #have = 0;
  #header = new Uint8Array(4);

  push(chunk: Uint8Array, emit: (pkt: PktLine) => void): void {
    let pos = this.#continuePartial(chunk, emit);
    while (pos < chunk.byteLength) {
      if (chunk.byteLength - pos < 4) {
        this.#startPartialHeader(chunk.subarray(pos));
        return;
      }
      const length = parseLength(chunk, pos);
      if (length < 4) {
        emit(specialPacket(length));
        pos += 4;
      } else if (pos + length <= chunk.byteLength) {
        emit({ type: "data", payload: chunk.subarray(pos + 4, pos + length) });
        pos += length;
      } else {
        this.#partial = new Uint8Array(length);
        this.#partial.set(chunk.subarray(pos));
        this.#have = chunk.byteLength - pos;
        return;
      }
    }
  }

  finish(): void {
    if (this.#have > 0) throw new PktLineError("input ended inside a pkt-line");
  }

  /** Feeds the start of `chunk` into a split packet; returns how much was used. */
  #continuePartial(chunk: Uint8Array, emit: (pkt: PktLine) => void): number {
    if (this.#have === 0) return 0;
    let used = 0;
    if (!this.#partial) {
      used = Math.min(4 - this.#have, chunk.byteLength);
      this.#header.set(chunk.subarray(0, used), this.#have);
      this.#have += used;
      if (this.#have < 4) return used;
      const length = parseLength(this.#header, 0);
      if (length < 4) {
        this.#have = 0;
        emit(specialPacket(length));
        return used;
      }
      this.#partial = new Uint8Array(length);
      this.#partial.set(this.#header);
    }
    const partial = this.#partial;
    const take = Math.min(partial.byteLength - this.#have, chunk.byteLength - used);
    partial.set(chunk.subarray(used, used + take), this.#have);
    this.#have += take;
    used += take;
    if (this.#have === partial.byteLength) {
      this.#partial = undefined;
      this.#have = 0;
      emit({ type: "data", payload: partial.subarray(4) });
    }
    return used;
  }

  #startPartialHeader(bytes: Uint8Array): void {
    this.#header.set(bytes);
    this.#have = bytes.byteLength;
  }
}

function specialPacket(length: number): PktLine {
  if (length === 0) return { type: "flush" };
  if (length === 1) return { type: "delim" };
  if (length === 2) return { type: "response-end" };
  throw new PktLineError(`invalid pkt-line length ${length}`);
}

/** Parses the 4 hex digits at `pos` and checks the range (throws {@link PktLineError}). */
export function parseLength(bytes: Uint8Array, pos: number): number {
  let length = 0;
  for (let i = pos; i < pos + 4; i++) {
    const digit = hexValue(bytes[i]);
    if (digit < 0) {
      const text = new TextDecoder().decode(bytes.subarray(pos, pos + 4));
      throw new PktLineError(`invalid pkt-line length header ${JSON.stringify(text)}`);
    }
    length = length * 16 + digit;
  }
  if (length === 3 || length > MAX_PKT_SIZE) {
    throw new PktLineError(`invalid pkt-line length ${length}`);
  }
  return length;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}

function writeLengthHeader(out: Uint8Array, pos: number, length: number): void {
  out[pos] = HEX.charCodeAt((length >> 12) & 0xf);
  out[pos + 1] = HEX.charCodeAt((length >> 8) & 0xf);
  out[pos + 2] = HEX.charCodeAt((length >> 4) & 0xf);
  out[pos + 3] = HEX.charCodeAt(length & 0xf);
}

/** Frames `data` into packets of at most `maxData` data bytes, each with an optional band byte. */
function framePackets(data: Uint8Array, maxData: number, band?: SidebandBand): Uint8Array {
  if (maxData < 1) throw new RangeError("packets must carry at least one data byte");
  const count = Math.ceil(data.byteLength / maxData);
  const overhead = band ? 5 : 4;
  const out = new Uint8Array(data.byteLength + count * overhead);
  let pos = 0;
  for (let offset = 0; offset < data.byteLength; offset += maxData) {
    const piece = data.subarray(offset, offset + maxData);
    writeLengthHeader(out, pos, piece.byteLength + overhead);
    if (band) out[pos + 4] = band;
    out.set(piece, pos + overhead);
    pos += piece.byteLength + overhead;
  }
  return out;
}
