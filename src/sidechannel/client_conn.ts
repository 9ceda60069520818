/**
 * Client end of an accepted sidechannel: the request goes out as pkt-lines
 * (so the server can see where it ends), the response comes back raw.
 *
 * @module
 */
import type { PrefixReader } from "../backchannel/prefix_reader.ts";
import { encodePktLine, flushPkt } from "../git/pktline.ts";
import type { YamuxStream } from "../yamux/stream.ts";
import { SidechannelError } from "./errors.ts";
import { MAX_REQUEST_CHUNK } from "./protocol.ts";

const FLUSH = flushPkt();

/**
 * The connection a sidechannel callback gets. Write the request with
 * {@link write} (or through {@link writable}), end it with
 * {@link closeWrite}, read the response from {@link readable}.
 */
export class ClientSidechannel {
  /** The Yamux stream underneath. */
  readonly stream: YamuxStream;
  /** The server's response bytes; ends when the server closes the stream. */
  readonly readable: ReadableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #writeClosed = false;
  #writable?: WritableStream<Uint8Array>;

  /** Takes over `stream`; `reader` holds its readable, positioned after the handshake. */
  constructor(stream: YamuxStream, reader: PrefixReader) {
    this.stream = stream;
    this.readable = reader.rest();
    this.#writer = stream.writable.getWriter();
  }

  /**
   * Sends `data` as pkt-lines of at most 65516 payload bytes; resolves once
   * queued (the caller may reuse `data`).
   */
  async write(data: Uint8Array): Promise<void> {
    if (this.#writeClosed) {
      throw new SidechannelError("sidechannel: write into a half-closed connection");
    }
    for (let offset = 0; offset < data.byteLength; offset += MAX_REQUEST_CHUNK) {
      await this.#writer.write(encodePktLine(data.subarray(offset, offset + MAX_REQUEST_CHUNK)));
    }
  }

  /** Ends the request with a flush packet; the response can still be read. */
  async closeWrite(): Promise<void> {
    if (this.#writeClosed) return;
    this.#writeClosed = true;
    await this.#writer.write(FLUSH);
  }

  /** The request side as a stream: writes are framed, closing sends the flush packet. */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
    });
    return this.#writable;
  }

  /**
   * Finishes our side: half-closes the Yamux stream and stops reading.
   * The registry calls this when the callback returns.
   */
  async close(): Promise<void> {
    this.#writeClosed = true;
    await this.#writer.close().catch(() => {});
    await this.readable.cancel().catch(() => {});
  }

  /** Aborts the stream both ways (for failures). */
  reset(): void {
    this.#writeClosed = true;
    this.stream.reset();
  }
}
