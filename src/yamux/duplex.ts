/**
 * A Yamux stream as a Node `Duplex` that looks enough like a `net.Socket`
 * for Deno's `node:http2` (and so grpc-js) to run HTTP/2 over it.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import type { TransportAddress } from "./transport.ts";
import type { YamuxStream } from "./stream.ts";

/** Addresses the duplex reports; default to the session's connection or placeholders. */
export interface YamuxDuplexOptions {
  /** Reported as `localAddress` / `localPort` / `address()`. */
  localAddress?: TransportAddress;
  /** Reported as `remoteAddress` / `remotePort` / `remoteFamily`. */
  remoteAddress?: TransportAddress;
}

/**
 * Wraps a {@link YamuxStream}. Reads are pulled only while Node wants more
 * (so Yamux flow control reaches the producer); writes resolve once queued
 * for the connection; `end()` half-closes (FIN); `destroy(error)` resets the
 * stream (RST) while a plain `destroy()` half-closes and discards whatever
 * the peer still sends.
 */
export class YamuxDuplex extends Duplex {
  /** The wrapped stream. */
  readonly stream: YamuxStream;
  /** Our address, as for a `net.Socket`. */
  readonly localAddress: string;
  /** Our port (0 when the connection has none). */
  readonly localPort: number;
  /** The peer's address, as for a `net.Socket`. */
  readonly remoteAddress: string;
  /** The peer's port (0 when the connection has none). */
  readonly remotePort: number;
  /** The peer's address family. */
  readonly remoteFamily: string;
  /** Always false: the stream exists as soon as the duplex does. */
  readonly connecting = false;
  /** The idle timeout last set by {@link setTimeout} (informational; never fires). */
  timeout = 0;

  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #localFamily: string;
  #pumping = false;

  /** Wraps `stream`; it must not be read or written through other means afterwards. */
  constructor(stream: YamuxStream, options: YamuxDuplexOptions = {}) {
    super({ allowHalfOpen: true });
    this.stream = stream;
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
    const local = options.localAddress ?? { address: "yamux", family: "yamux" };
    const remote = options.remoteAddress ?? { address: "yamux", family: "yamux" };
    this.localAddress = local.address;
    this.localPort = local.port ?? 0;
    this.#localFamily = local.family ?? "yamux";
    this.remoteAddress = remote.address;
    this.remotePort = remote.port ?? 0;
    this.remoteFamily = remote.family ?? "yamux";
  }

  /** Like `net.Socket.address()`. */
  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: this.localPort, family: this.#localFamily };
  }

  /** Mirrors `net.Socket.readyState`. */
  get readyState(): string {
    if (this.destroyed) return "closed";
    if (!this.readable) return this.writable ? "writeOnly" : "closed";
    return this.writable ? "open" : "readOnly";
  }

  /** No-op: a stream does not keep the process alive by itself. */
  unref(): this {
    return this;
  }

  /** No-op counterpart of {@link unref}. */
  ref(): this {
    return this;
  }

  /** No-op: Yamux frames are written as soon as they are queued. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** No-op: keepalive belongs to the underlying connection. */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** Records the timeout and listener like `net.Socket`, but never fires: HTTP/2 keeps its own. */
  setTimeout(timeout: number, callback?: () => void): this {
    this.timeout = timeout;
    if (callback) this.once("timeout", callback);
    return this;
  }

  /** Ends our direction, like `net.Socket.destroySoon()`. */
  destroySoon(): void {
    this.end();
  }

  /** @internal Node calls this when it wants more data. */
  override _read(): void {
    if (!this.#pumping) void this.#pump();
  }

  /** @internal */
  override _write(
    chunk: Uint8Array,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#writer.write(chunk).then(() => callback(), callback);
  }

  /** @internal HTTP/2 writes many small pieces; send them as one chunk. */
  override _writev(
    chunks: Array<{ chunk: Uint8Array }>,
    callback: (error?: Error | null) => void,
  ): void {
    const joined = chunks.length === 1
      ? chunks[0].chunk
      : Buffer.concat(chunks.map((entry) => entry.chunk));
    this.#writer.write(joined).then(() => callback(), callback);
  }

  /** @internal `end()`: half-close with FIN. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#writer.close().then(() => callback(), callback);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) {
      this.stream.reset();
    } else {
      this.#writer.close().catch(() => {});
    }
    this.#reader.cancel().catch(() => {});
    callback(error);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (true) {
        const { value, done } = await this.#reader.read();
        if (done) {
          this.push(null);
          return;
        }
        const more = this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        if (!more) return;
      }
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#pumping = false;
    }
  }
}

/** Wraps `stream` as a socket-like Node `Duplex`, taking addresses from its session if given. */
export function toDuplex(stream: YamuxStream, options?: YamuxDuplexOptions): YamuxDuplex {
  return new YamuxDuplex(stream, options);
}
