/**
 * A Yamux session: multiplexes streams over one {@link YamuxTransport},
 * speaking hashicorp/yamux protocol version 0 in either role.
 *
 * @module
 */

import {
  Flag,
  FrameType,
  GoAwayCode,
  MAX_UINT32,
  RemoteGoAwayError,
  resolveConfig,
  SessionClosedError,
  type YamuxConfig,
  YamuxError,
  YamuxProtocolError,
  YamuxTimeoutError,
} from "./const.ts";
import { type FrameHandler, type FrameHeader, FrameParser } from "./frame.ts";
import { FrameSender } from "./sender.ts";
import { type StreamHost, YamuxStream } from "./stream.ts";
import type { TransportAddress, YamuxTransport } from "./transport.ts";

/** The client opens odd stream ids, the server even ones. */
export type YamuxRole = "client" | "server";

/** Size of the buffer the connection is read into. */
const READ_BUFFER_SIZE = 256 * 1024;
/** Capacity of one outbound batch. */
const SEND_BATCH_SIZE = 256 * 1024;

type Waiter<T> = { resolve: (value: T) => void; reject: (error: Error) => void };
type PendingPing = { resolve: () => void; reject: (error: Error) => void; timer: Timer };
type ChunkReader = () => Promise<Uint8Array | null>;
type Timer = ReturnType<typeof setTimeout>;

/** One end of a Yamux session. */
export class YamuxSession {
  /** Which ids this end opens: odd (client) or even (server). */
  readonly role: YamuxRole;
  /** The effective configuration. */
  readonly config: Readonly<YamuxConfig>;
  /** Resolves (never rejects) once the session is torn down and the connection closed. */
  readonly closed: Promise<void>;

  readonly #transport: YamuxTransport;
  readonly #sender: FrameSender;
  readonly #parser: FrameParser;
  readonly #host: StreamHost;
  readonly #streams = new Map<number, YamuxStream>();
  readonly #backlog = new Set<YamuxStream>();
  #acceptWaiters: Waiter<YamuxStream>[] = [];
  #openWaiters: Waiter<void>[] = [];
  readonly #inflight = new Map<number, Timer | undefined>();
  readonly #pings = new Map<number, PendingPing>();
  #nextStreamId: number;
  #maxRemoteId = 0;
  #nextPingId = 0;
  #frameStream: YamuxStream | null = null;
  #localGoAway = false;
  #remoteGoAway = false;
  #closeReason: Error | null = null;
  #keepAliveTimer: Timer | undefined;
  #readerCancel: () => Promise<void> = () => Promise.resolve();
  #readLoopDone: Promise<void>;
  #resolveClosed!: () => void;

  /** Starts a session over `transport`; it reads and writes until closed. */
  constructor(transport: YamuxTransport, role: YamuxRole, config: Partial<YamuxConfig> = {}) {
    this.role = role;
    this.config = Object.freeze(resolveConfig(config));
    this.#transport = transport;
    this.#nextStreamId = role === "client" ? 1 : 2;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#sender = new FrameSender(transport.writable.getWriter(), {
      batchSize: SEND_BATCH_SIZE,
      limit: this.config.sendBufferSize,
      onError: (error) => this.#connectionLost(error),
      write: transport.write?.bind(transport),
    });
    this.#host = this.#makeStreamHost();
    this.#parser = new FrameParser(this.#makeFrameHandler());
    this.#readLoopDone = this.#readLoop(this.#makeChunkReader());
    if (this.config.enableKeepAlive) this.#scheduleKeepAlive();
  }

  /** Starts a client session (odd stream ids). */
  static client(transport: YamuxTransport, config?: Partial<YamuxConfig>): YamuxSession {
    return new YamuxSession(transport, "client", config);
  }

  /** Starts a server session (even stream ids). */
  static server(transport: YamuxTransport, config?: Partial<YamuxConfig>): YamuxSession {
    return new YamuxSession(transport, "server", config);
  }

  /** Why the session ended, or null while it runs. */
  get closeReason(): Error | null {
    return this.#closeReason;
  }

  /** True once the session has started tearing down. */
  get isClosed(): boolean {
    return this.#closeReason !== null;
  }

  /** Streams currently open (including ones waiting in the accept backlog). */
  get numStreams(): number {
    return this.#streams.size;
  }

  /** Our end of the connection, if the transport knows it. */
  get localAddress(): TransportAddress | undefined {
    return this.#transport.localAddress;
  }

  /** The peer's end of the connection, if the transport knows it. */
  get remoteAddress(): TransportAddress | undefined {
    return this.#transport.remoteAddress;
  }

  /**
   * Opens a stream: sends a Window Update flagged SYN and returns at once
   * (data may flow before the peer's ACK). Waits while `acceptBacklog`
   * opens are still un-ACKed.
   */
  async open(): Promise<YamuxStream> {
    this.#assertCanOpen();
    while (this.#inflight.size >= this.config.acceptBacklog) {
      await new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
      this.#assertCanOpen();
    }
    const id = this.#nextStreamId;
    if (id >= MAX_UINT32 - 1) throw new YamuxError("stream ids exhausted");
    this.#nextStreamId += 2;
    const stream = new YamuxStream(this.#host, id, true);
    this.#streams.set(id, stream);
    this.#inflight.set(id, this.#startOpenTimer());
    stream.sendSyn();
    return stream;
  }

  /** Waits for the next stream the peer opens and acknowledges it (ACK). */
  accept(): Promise<YamuxStream> {
    if (this.#closeReason) return Promise.reject(this.#closeReason);
    const [stream] = this.#backlog;
    if (stream) {
      this.#backlog.delete(stream);
      stream.sendAck();
      return Promise.resolve(stream);
    }
    return new Promise((resolve, reject) => this.#acceptWaiters.push({ resolve, reject }));
  }

  /** Yields accepted streams until the session closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<YamuxStream, void, undefined> {
    while (!this.#closeReason) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closeReason) return;
        throw error;
      }
    }
  }

  /** Sends a ping and resolves with the round-trip time in milliseconds. */
  ping(): Promise<number> {
    if (this.#closeReason) return Promise.reject(this.#closeReason);
    const id = this.#nextPingId;
    this.#nextPingId = (id + 1) >>> 0;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new YamuxTimeoutError("ping timed out"));
      }, this.config.connectionWriteTimeoutMs);
      this.#pings.set(id, { resolve: () => resolve(performance.now() - started), reject, timer });
      this.#sender.control(FrameType.Ping, Flag.SYN, 0, id);
    });
  }

  /** Tells the peer we accept no more streams (Go Away, normal); later SYNs are reset. */
  goAway(): void {
    if (this.#closeReason) return;
    this.#localGoAway = true;
    this.#sender.control(FrameType.GoAway, 0, 0, GoAwayCode.Normal);
  }

  /**
   * Closes the session: every open stream errors, a normal Go Away is
   * flushed (bounded by `connectionWriteTimeoutMs`) and the connection is
   * closed. Resolves once everything has stopped.
   */
  async close(): Promise<void> {
    this.#shutdown(new SessionClosedError("session closed"), GoAwayCode.Normal);
    await this.closed;
  }

  // ---- stream bookkeeping -------------------------------------------------

  #makeStreamHost(): StreamHost {
    return {
      sender: this.#sender,
      maxWindow: this.config.maxStreamWindowSize,
      closeTimeoutMs: this.config.streamCloseTimeoutMs,
      streamEstablished: (stream) => this.#releaseInflight(stream.id),
      streamDone: (stream) => this.#forgetStream(stream),
    };
  }

  #assertCanOpen(): void {
    if (this.#closeReason) throw this.#closeReason;
    if (this.#remoteGoAway) throw new RemoteGoAwayError("peer sent Go Away");
  }

  #startOpenTimer(): Timer | undefined {
    const timeout = this.config.streamOpenTimeoutMs;
    if (timeout <= 0) return undefined;
    return setTimeout(() => {
      this.#shutdown(new YamuxTimeoutError("stream open timed out waiting for ACK"), null);
    }, timeout);
  }

  #releaseInflight(id: number): void {
    if (!this.#inflight.has(id)) return;
    clearTimeout(this.#inflight.get(id));
    this.#inflight.delete(id);
    this.#openWaiters.shift()?.resolve();
  }

  #forgetStream(stream: YamuxStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.#backlog.delete(stream);
    this.#releaseInflight(stream.id);
  }

  #isLocalId(id: number): boolean {
    return (id & 1) === (this.role === "client" ? 1 : 0);
  }

  /**
   * True if `id` may belong to a stream that existed at some point, so late
   * frames for it are harmless. Every stream starts with a SYN, so an id
   * beyond the highest one opened was never opened.
   */
  #wasOpened(id: number): boolean {
    if (id === 0) return false;
    return this.#isLocalId(id) ? id < this.#nextStreamId : id <= this.#maxRemoteId;
  }

  #incomingStream(id: number): YamuxStream | null {
    if (id === 0 || this.#isLocalId(id)) {
      throw new YamuxProtocolError(`peer opened stream ${id} with our parity`);
    }
    // hashicorp allocates ids and sends SYNs from different goroutines, so SYNs
    // may arrive out of order: only a stream that is still open is a duplicate.
    if (this.#streams.has(id)) throw new YamuxProtocolError(`duplicate stream ${id}`);
    if (id > this.#maxRemoteId) this.#maxRemoteId = id;
    if (this.#localGoAway) return this.#refuseStream(id);
    const stream = new YamuxStream(this.#host, id, false);
    const waiter = this.#acceptWaiters.shift();
    if (waiter) {
      this.#streams.set(id, stream);
      stream.sendAck();
      waiter.resolve(stream);
    } else if (this.#backlog.size < this.config.acceptBacklog) {
      this.#streams.set(id, stream);
      this.#backlog.add(stream);
    } else {
      this.#log(`yamux: accept backlog full, resetting stream ${id}`);
      return this.#refuseStream(id);
    }
    return stream;
  }

  /** Logs through the configured logger, which must never take the session down. */
  #log(message: string): void {
    try {
      this.config.logger(message);
    } catch {
      // A broken logger is not our peer's fault.
    }
  }

  #refuseStream(id: number): null {
    this.#sender.control(FrameType.WindowUpdate, Flag.RST, id, 0);
    return null;
  }

  // ---- inbound frames -----------------------------------------------------

  #makeFrameHandler(): FrameHandler {
    return {
      onHeader: (header) => this.#onHeader(header),
      onPayload: (_header, bytes) => this.#frameStream?.pushData(bytes),
      onFrameEnd: (header) => {
        const stream = this.#frameStream;
        this.#frameStream = null;
        if (stream && header.type <= FrameType.WindowUpdate) stream.handleFrameEnd(header.flags);
      },
    };
  }

  #onHeader(header: FrameHeader): void {
    if (this.#closeReason) throw this.#closeReason;
    switch (header.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate:
        this.#frameStream = this.#onStreamHeader(header);
        break;
      case FrameType.Ping:
        this.#onPing(header);
        break;
      case FrameType.GoAway:
        this.#onGoAway(header.length);
        break;
    }
  }

  #onStreamHeader(header: FrameHeader): YamuxStream | null {
    const stream = this.#streamFor(header);
    if (!stream) return null;
    stream.handleFlags(header.flags);
    if (header.flags & Flag.RST) return null;
    if (header.type === FrameType.Data) {
      stream.reserveData(header.length);
    } else {
      stream.incrementSendWindow(header.length);
    }
    return stream;
  }

  #streamFor(header: FrameHeader): YamuxStream | null {
    const id = header.streamId;
    if (header.flags & Flag.SYN) return this.#incomingStream(id);
    const stream = this.#streams.get(id);
    if (stream) return stream;
    if (!this.#wasOpened(id)) {
      throw new YamuxProtocolError(`frame type ${header.type} for unknown stream ${id}`);
    }
    // A stream we already forgot (reset, or closed both ways): late frames are dropped.
    return null;
  }

  #onPing(header: FrameHeader): void {
    if (header.flags & Flag.SYN) {
      this.#sender.control(FrameType.Ping, Flag.ACK, 0, header.length);
    } else if (header.flags & Flag.ACK) {
      const ping = this.#pings.get(header.length);
      if (!ping) return;
      this.#pings.delete(header.length);
      clearTimeout(ping.timer);
      ping.resolve();
    }
  }

  #onGoAway(code: number): void {
    switch (code) {
      case GoAwayCode.Normal:
        this.#remoteGoAway = true;
        this.#rejectOpenWaiters(new RemoteGoAwayError("peer sent Go Away"));
        return;
      case GoAwayCode.ProtocolError:
        this.#shutdown(new YamuxProtocolError("peer reported a protocol error (Go Away)"), null);
        return;
      case GoAwayCode.InternalError:
        this.#shutdown(new SessionClosedError("peer reported an internal error (Go Away)"), null);
        return;
      default:
        throw new YamuxProtocolError(`unknown Go Away code ${code}`);
    }
  }

  // ---- the connection -----------------------------------------------------

  #makeChunkReader(): ChunkReader {
    const readable = this.#transport.readable;
    try {
      const reader = readable.getReader({ mode: "byob" });
      this.#readerCancel = () => reader.cancel();
      let buffer = new Uint8Array(READ_BUFFER_SIZE);
      return async () => {
        const { value, done } = await reader.read(buffer);
        if (done || !value) return null;
        buffer = new Uint8Array(value.buffer);
        return value;
      };
    } catch {
      // Not a byte stream: read whatever chunks it produces.
      const reader = readable.getReader();
      this.#readerCancel = () => reader.cancel();
      return async () => {
        const { value, done } = await reader.read();
        return done ? null : value;
      };
    }
  }

  async #readLoop(read: ChunkReader): Promise<void> {
    const pauseAbove = this.config.sendBufferSize * 2;
    while (!this.#closeReason) {
      let chunk: Uint8Array | null;
      try {
        chunk = await read();
      } catch (error) {
        this.#connectionLost(error);
        return;
      }
      if (this.#closeReason) return;
      if (!this.#feed(chunk)) return;
      // A peer that floods us with pings while not reading would grow our queue: stop reading.
      if (this.#sender.bufferedBytes > pauseAbove) {
        await this.#sender.waitForRoom(0).catch(() => {});
      }
    }
  }

  /** Parses one chunk (null: end of stream). False once the session has ended. */
  #feed(chunk: Uint8Array | null): boolean {
    try {
      if (chunk === null) {
        this.#parser.end();
        this.#shutdown(new SessionClosedError("connection closed by peer"), null);
        return false;
      }
      if (chunk.length > 0) this.#parser.push(chunk);
      return true;
    } catch (error) {
      if (this.#closeReason) return false;
      if (error instanceof YamuxProtocolError) {
        this.#log(`yamux: ${error.message}`);
        this.#shutdown(error, GoAwayCode.ProtocolError);
      } else {
        this.#log(`yamux: internal error: ${error}`);
        const reason = new SessionClosedError("internal error", { cause: error });
        this.#shutdown(reason, GoAwayCode.InternalError);
      }
      return false;
    }
  }

  #connectionLost(error: unknown): void {
    this.#shutdown(new SessionClosedError("connection lost", { cause: error }), null);
  }

  #scheduleKeepAlive(): void {
    this.#keepAliveTimer = setTimeout(() => {
      this.#keepAliveTimer = undefined;
      this.ping().then(
        () => {
          if (!this.#closeReason) this.#scheduleKeepAlive();
        },
        () => this.#shutdown(new YamuxTimeoutError("keepalive failed"), null),
      );
    }, this.config.keepAliveIntervalMs);
  }

  // ---- teardown -----------------------------------------------------------

  /** Ends the session once: everything waiting fails with `reason`, then the connection closes. */
  #shutdown(reason: Error, goAway: GoAwayCode | null): void {
    if (this.#closeReason) return;
    this.#closeReason = reason;
    clearTimeout(this.#keepAliveTimer);
    for (const timer of this.#inflight.values()) clearTimeout(timer);
    this.#inflight.clear();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#backlog.clear();
    for (const stream of streams) stream.terminate(reason);
    this.#rejectAcceptWaiters(reason);
    this.#rejectOpenWaiters(reason);
    this.#rejectPings(reason);
    if (goAway !== null) this.#sender.control(FrameType.GoAway, 0, 0, goAway);
    const resolve = () => this.#resolveClosed();
    this.#closeConnection(reason).then(resolve, resolve);
  }

  async #closeConnection(reason: Error): Promise<void> {
    const flushed = await this.#flushWithin(this.config.connectionWriteTimeoutMs);
    const writerEnded = this.#sender.stop(reason, flushed);
    if (flushed) await writerEnded;
    await this.#readerCancel().catch(() => {});
    try {
      await this.#transport.close();
    } catch {
      // The connection was already gone.
    }
    await this.#sender.done;
    await this.#readLoopDone;
  }

  async #flushWithin(timeoutMs: number): Promise<boolean> {
    if (this.#sender.stopped) return false;
    let timer: Timer | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.#sender.flush().then(() => !this.#sender.stopped), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  #rejectAcceptWaiters(reason: Error): void {
    const waiters = this.#acceptWaiters;
    this.#acceptWaiters = [];
    for (const waiter of waiters) waiter.reject(reason);
  }

  #rejectOpenWaiters(reason: Error): void {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.reject(reason);
  }

  #rejectPings(reason: Error): void {
    for (const ping of this.#pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(reason);
    }
    this.#pings.clear();
  }
}
