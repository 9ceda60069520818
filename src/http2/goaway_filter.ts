/**
 * Works around a Deno 2.9 crash: nghttp2 inside Deno's `node:http2` aborts
 * the whole process on some GOAWAY frames it receives (denoland/deno#36788,
 * an assertion in `find_stream_on_goaway_func`; no JavaScript can catch it).
 * Clients send GOAWAY when they close a connection, so a server fed raw
 * client bytes can die whenever a client leaves.
 *
 * This wraps a connection and removes the peer's GOAWAY frames before
 * grpc-js (and nghttp2) see them. The server filters what clients send:
 * nothing is lost, since a client GOAWAY only says "no new streams from
 * me" and the client closes the connection right after. Our clients filter
 * what a stopping server sends: they then learn of the shutdown when the
 * connection closes, and grpc-js reconnects or fails the calls as usual.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";

/** The 24-byte connection preface every HTTP/2 client sends first. */
const PREFACE_LENGTH = 24;
const FRAME_HEADER_LENGTH = 9;
const GOAWAY = 0x7;

/**
 * Incremental HTTP/2 frame scanner that passes every byte through except
 * whole GOAWAY frames. Payloads are sliced, never copied.
 */
export class GoawayStripper {
  #prefaceLeft: number;
  #header = new Uint8Array(FRAME_HEADER_LENGTH);
  #headerFilled = 0;
  /** Payload bytes of the current frame still to pass (or drop). */
  #payloadLeft = 0;
  #dropping = false;

  /** `expectPreface`: the bytes start with a client's connection preface (the server side). */
  constructor(expectPreface = true) {
    this.#prefaceLeft = expectPreface ? PREFACE_LENGTH : 0;
  }

  /** Returns the parts of `chunk` to forward, in order. */
  filter(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#prefaceLeft > 0) {
        const take = Math.min(this.#prefaceLeft, chunk.length - offset);
        out.push(chunk.subarray(offset, offset + take));
        this.#prefaceLeft -= take;
        offset += take;
      } else if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, chunk.length - offset);
        if (!this.#dropping) out.push(chunk.subarray(offset, offset + take));
        this.#payloadLeft -= take;
        offset += take;
      } else {
        offset = this.#readHeader(chunk, offset, out);
      }
    }
    return mergeAdjacent(out);
  }

  #readHeader(chunk: Uint8Array, offset: number, out: Uint8Array[]): number {
    const take = Math.min(FRAME_HEADER_LENGTH - this.#headerFilled, chunk.length - offset);
    this.#header.set(chunk.subarray(offset, offset + take), this.#headerFilled);
    this.#headerFilled += take;
    if (this.#headerFilled < FRAME_HEADER_LENGTH) return offset + take;
    const h = this.#header;
    this.#headerFilled = 0;
    this.#payloadLeft = (h[0] << 16) | (h[1] << 8) | h[2];
    this.#dropping = h[3] === GOAWAY;
    if (!this.#dropping) out.push(h.slice());
    return offset + take;
  }
}

function mergeAdjacent(parts: Uint8Array[]): Uint8Array[] {
  return parts.length <= 1 ? parts : [Buffer.concat(parts)];
}

/** The socket features Deno's `node:http2` calls on a connection. */
interface SocketLike extends Duplex {
  setNoDelay?(noDelay?: boolean): unknown;
  setKeepAlive?(enable?: boolean, delay?: number): unknown;
  setTimeout?(ms: number, cb?: () => void): unknown;
  ref?(): unknown;
  unref?(): unknown;
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
  remoteFamily?: string;
  address?(): unknown;
}

/** A duplex over `socket` whose readable side never yields a GOAWAY frame. */
export class GoawayFilteredSocket extends Duplex {
  readonly #socket: SocketLike;
  readonly #stripper: GoawayStripper;

  /** `role`: "server" filters what a client sends (it starts with the preface), "client" what a server sends. */
  constructor(socket: SocketLike, role: "server" | "client" = "server") {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#stripper = new GoawayStripper(role === "server");
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => this.push(null));
    socket.on("error", (err) => this.destroy(err));
    socket.on("close", () => this.destroy());
  }

  #onData(chunk: Uint8Array): void {
    for (const part of this.#stripper.filter(chunk)) {
      if (!this.push(part)) this.#socket.pause();
    }
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    callback: (err?: Error | null) => void,
  ): void {
    this.#socket.write(chunk, callback);
  }

  /**
   * HTTP/2 writes a response as many small pieces (one per frame: 9 header
   * bytes and at most 16 KiB of DATA); those queued behind a write in
   * progress go to the socket together, corked. Deno's socket `writev`
   * still sends each buffer with a system call of its own; joining them
   * into one buffer first (reused or not) measured no less CPU per byte.
   */
  override _writev(
    chunks: Array<{ chunk: Uint8Array }>,
    callback: (err?: Error | null) => void,
  ): void {
    const socket = this.#socket;
    socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) socket.write(chunks[i].chunk);
    socket.write(chunks[last].chunk, callback);
    socket.uncork();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#socket.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#socket.destroy(err ?? undefined);
    callback(err);
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.#socket.remotePort;
  }

  get remoteFamily(): string | undefined {
    return this.#socket.remoteFamily;
  }

  get localAddress(): string | undefined {
    return this.#socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.#socket.localPort;
  }

  /** TLS facts of the wrapped socket, for HTTP/2's authority and checks. */
  get servername(): string | undefined {
    return (this.#socket as { servername?: string }).servername;
  }

  get alpnProtocol(): string | false | undefined {
    return (this.#socket as { alpnProtocol?: string | false }).alpnProtocol;
  }

  get encrypted(): boolean | undefined {
    return (this.#socket as { encrypted?: boolean }).encrypted;
  }

  address(): unknown {
    return this.#socket.address?.() ?? {};
  }

  setNoDelay(noDelay?: boolean): this {
    this.#socket.setNoDelay?.(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.#socket.setKeepAlive?.(enable, delay);
    return this;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.#socket.setTimeout?.(ms, callback);
    return this;
  }

  ref(): this {
    this.#socket.ref?.();
    return this;
  }

  unref(): this {
    this.#socket.unref?.();
    return this;
  }
}
