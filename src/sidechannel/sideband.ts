/**
 * Side-band-64k over a sidechannel, as `SSHUploadPackWithSidechannel`
 * uses it: the server multiplexes git's stdout (band 1) and stderr
 * (band 2) into pkt-lines of at most 65520 bytes; the client splits them
 * again.
 *
 * @module
 */
import {
  MAX_PKT_SIZE,
  MAX_SIDEBAND_DATA,
  parseLength,
  PktLineDecoder,
  type SidebandBand,
} from "../git/pktline.ts";

/** Receives one chunk; resolves once the next may be delivered. */
export type ByteSink = (chunk: Uint8Array) => Promise<void>;

/** Band of git's standard output. */
export const BAND_STDOUT = 1;
/** Band of git's standard error. */
export const BAND_STDERR = 2;

/**
 * Frames chunks written to each band into side-band packets and passes
 * them to `write` one whole buffer at a time, one write after the other,
 * so packets of different bands never interleave. `write` must be done
 * with the buffer when its promise resolves (a sidechannel's write
 * copies): each band frames into one reused buffer, so a band's sink must
 * not be called again before its previous call resolved.
 */
export class SidebandWriter {
  readonly #write: ByteSink;
  /** The last write handed to `write`: the next one starts after it. */
  #last: Promise<void> = Promise.resolve();

  /** Writes framed packets through `write` (e.g. a sidechannel's). */
  constructor(write: ByteSink) {
    this.#write = write;
  }

  /**
   * A sink that frames its chunks on `band`. Writes of all bands reach
   * `write` one after the other, each once the previous one resolved: a
   * `write` that takes several system calls (a socket's) never interleaves
   * the packets of two bands.
   */
  band(band: SidebandBand): ByteSink {
    let scratch = new Uint8Array(0);
    return (chunk) => {
      if (chunk.byteLength === 0) return Promise.resolve();
      const size = framedSize(chunk.byteLength);
      if (scratch.byteLength < size) scratch = new Uint8Array(size);
      const framed = frameInto(scratch, band, chunk);
      const written = this.#last.then(() => this.#write(framed));
      this.#last = written.catch(() => {});
      return written;
    };
  }
}

/** Bytes `length` data bytes take as side-band-64k packets. */
function framedSize(length: number): number {
  return length + Math.ceil(length / MAX_SIDEBAND_DATA) * 5;
}

/** Frames `data` as packets on `band` into the front of `target`; returns that part. */
function frameInto(target: Uint8Array, band: number, data: Uint8Array): Uint8Array {
  let at = 0;
  for (let offset = 0; offset < data.byteLength; offset += MAX_SIDEBAND_DATA) {
    const piece = data.subarray(offset, offset + MAX_SIDEBAND_DATA);
    const length = piece.byteLength + 5;
    for (let i = 0; i < 4; i++) target[at + i] = HEX.charCodeAt((length >> (12 - 4 * i)) & 0xf);
    target[at + 4] = band;
    target.set(piece, at + 5);
    at += length;
  }
  return target.subarray(0, at);
}

const HEX = "0123456789abcdef";

/** Where the bands of a side-band stream go. */
export interface SidebandSinks {
  stdout: ByteSink;
  stderr: ByteSink;
}

/**
 * Copies a side-band-64k stream into `sinks` until it ends. Fails like
 * Gitaly's client on an empty packet (`invalid sideband packet: "0000"`) or
 * a band other than 1 and 2 (`unexpected band: 3`).
 */
export async function demultiplexSideband(
  source: ReadableStream<Uint8Array>,
  sinks: SidebandSinks,
): Promise<void> {
  for await (const packet of source.pipeThrough(new PktLineDecoder())) {
    if (packet.type !== "data" || packet.payload.byteLength === 0) {
      throw new Error(`invalid sideband packet: ${JSON.stringify(specialText(packet.type))}`);
    }
    const band = packet.payload[0];
    const data = packet.payload.subarray(1);
    if (band === BAND_STDOUT) await sinks.stdout(data);
    else if (band === BAND_STDERR) await sinks.stderr(data);
    else throw new Error(`unexpected band: ${band}`);
  }
}

/**
 * {@link demultiplexSideband} over a reader instead of a stream, for bulk
 * data: packets are read into one buffer of `bufferSize` bytes, and the
 * data of consecutive packets of one band is moved together and handed on
 * as one chunk, a view into that buffer valid until the sink resolves.
 * The same errors.
 */
export async function demultiplexSidebandReader(
  read: (buffer: Uint8Array) => Promise<number | null>,
  sinks: SidebandSinks,
  bufferSize = 1024 * 1024,
): Promise<void> {
  const buffer = new Uint8Array(Math.max(bufferSize, MAX_PKT_SIZE));
  let end = 0;
  for (;;) {
    const n = await read(buffer.subarray(end));
    if (n === null) {
      if (end > 0) throw new Error("input ended inside a pkt-line");
      return;
    }
    end += n;
    let pos = 0;
    let band = 0;
    let runStart = 0;
    let runEnd = 0;
    const flush = async () => {
      if (runEnd > runStart) {
        await (band === BAND_STDOUT ? sinks.stdout : sinks.stderr)(
          buffer.subarray(runStart, runEnd),
        );
      }
    };
    while (end - pos >= 4) {
      const length = parseLength(buffer, pos);
      if (length <= 4) {
        const header = length === 4 ? "0004" : `000${length}`;
        throw new Error(`invalid sideband packet: ${JSON.stringify(header)}`);
      }
      if (pos + length > end) break;
      const packetBand = buffer[pos + 4];
      if (packetBand !== BAND_STDOUT && packetBand !== BAND_STDERR) {
        throw new Error(`unexpected band: ${packetBand}`);
      }
      if (packetBand !== band) {
        await flush();
        band = packetBand;
        runStart = runEnd = pos;
      }
      // Data only moves left, over headers already parsed.
      buffer.copyWithin(runEnd, pos + 5, pos + length);
      runEnd += length - 5;
      pos += length;
    }
    await flush();
    buffer.copyWithin(0, pos, end);
    end -= pos;
  }
}

function specialText(type: string): string {
  switch (type) {
    case "flush":
      return "0000";
    case "delim":
      return "0001";
    case "response-end":
      return "0002";
    default:
      return "0004";
  }
}
