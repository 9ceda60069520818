/**
 * One Yamux stream: a pair of Web streams with per-stream flow control.
 *
 * The receive side never holds more than the window it advertised: data is
 * kept in a private queue and handed to the `ReadableStream` only when its
 * reader asks (high-water mark 0), and window updates are sent as that queue
 * drains, the way hashicorp/yamux does (once the increment reaches half of
 * the maximum window). The send side writes no more than the peer's window
 * and waits for Window Update frames.
 *
 * @module
 */

import {
  Flag,
  FrameType,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  MAX_DATA_FRAME,
  MAX_UINT32,
  StreamResetError,
  YamuxError,
  YamuxProtocolError,
} from "./const.ts";
import type { FrameSender } from "./sender.ts";

/** What a stream needs from the session that owns it. */
export interface StreamHost {
  /** The session's outbound frame queue. */
  readonly sender: FrameSender;
  /** Largest receive window a stream grows to. */
  readonly maxWindow: number;
  /** Reset a half-closed stream after this long without the peer's FIN or data (0: never). */
  readonly closeTimeoutMs: number;
  /** The peer acknowledged a stream we opened. */
  streamEstablished(stream: YamuxStream): void;
  /** The stream is finished in both directions (or reset): forget it. */
  streamDone(stream: YamuxStream): void;
}

/** Flow-control counters of a stream, for diagnostics and tests. */
export interface StreamStats {
  /** Bytes received and not yet handed to the reader. */
  bufferedBytes: number;
  /** Highest `bufferedBytes` ever reached. */
  maxBufferedBytes: number;
  /** Bytes the peer may still send before our next Window Update. */
  receiveWindow: number;
  /** Bytes we may still send before the peer's next Window Update. */
  sendWindow: number;
}

type Waiter = { resolve: () => void; reject: (error: Error) => void };

const RESOLVED: Promise<void> = Promise.resolve();

/** A bidirectional Yamux stream exposed as Web streams. */
export class YamuxStream {
  /** Stream id: odd when the session client opened it, even for the server. */
  readonly id: number;
  /** Bytes from the peer; ends at the peer's FIN, errors on reset or session loss. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it sends FIN, aborting it resets the stream. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves (never rejects) once the stream is finished in both directions or reset. */
  readonly closed: Promise<void>;

  readonly #host: StreamHost;
  #sendWindow = INITIAL_STREAM_WINDOW;
  #recvWindow = INITIAL_STREAM_WINDOW;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #maxBuffered = 0;
  #readController!: ReadableStreamDefaultController<Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #pullWaiter: (() => void) | null = null;
  #readFinished = false;
  #readCancelled = false;
  #readError: Error | null = null;
  #writeError: Error | null = null;
  #windowWaiter: Waiter | null = null;
  #writeInProgress: Promise<void> | null = null;
  #localClosed = false;
  #remoteClosed = false;
  #isReset = false;
  #established: boolean;
  #finished = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #lastActivity = 0;
  #resolveClosed!: () => void;

  /**
   * Creates a stream. Sessions call this; applications get streams from
   * `session.open()` and `session.accept()`.
   */
  constructor(host: StreamHost, id: number, outgoing: boolean) {
    this.#host = host;
    this.id = id;
    this.#established = !outgoing;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#cancelRead(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.write(chunk),
      close: () => this.#sendFin(),
      abort: () => this.reset(),
    });
  }

  /** Flow-control counters. */
  get stats(): StreamStats {
    return {
      bufferedBytes: this.#buffered,
      maxBufferedBytes: this.#maxBuffered,
      receiveWindow: this.#recvWindow,
      sendWindow: this.#sendWindow,
    };
  }

  /**
   * Half-closes our direction (sends FIN) once the write in progress, if any,
   * is done. Prefer `writable.close()` when writing through a writer: chunks
   * still queued in the writable fail after `closeWrite()`.
   */
  async closeWrite(): Promise<void> {
    if (this.#localClosed) return;
    await this.#writeInProgress?.catch(() => {});
    if (this.#localClosed) return;
    if (!this.writable.locked) {
      await this.writable.close();
      return;
    }
    await this.#writeInProgress?.catch(() => {});
    this.#sendFin();
  }

  /** Aborts the stream in both directions and tells the peer (RST). */
  reset(): void {
    if (this.#finished) return;
    this.#host.sender.control(FrameType.WindowUpdate, Flag.RST, this.id, 0);
    this.#abort(new StreamResetError(`stream ${this.id} reset locally`));
  }

  // ---- called by the session --------------------------------------------

  /** @internal Sends the opening Window Update (SYN) that also grants our extra window. */
  sendSyn(): void {
    this.#sendWindowUpdate(Flag.SYN);
  }

  /** @internal Sends the accepting Window Update (ACK) that also grants our extra window. */
  sendAck(): void {
    if (!this.#finished) this.#sendWindowUpdate(Flag.ACK);
  }

  /** @internal Applies ACK and RST; FIN waits for {@link handleFrameEnd} so it follows the payload. */
  handleFlags(flags: number): void {
    if (flags & Flag.ACK && !this.#established) {
      this.#established = true;
      this.#host.streamEstablished(this);
    }
    if (flags & Flag.RST) this.#abort(new StreamResetError(`stream ${this.id} reset by peer`));
  }

  /** @internal Applies FIN once the frame carrying it has been fully read. */
  handleFrameEnd(flags: number): void {
    if (!(flags & Flag.FIN) || this.#isReset || this.#readError) return;
    if (this.#remoteClosed) throw new YamuxProtocolError(`duplicate FIN on stream ${this.id}`);
    this.#remoteClosed = true;
    this.#wakeReader();
    if (this.#localClosed) this.#finish();
  }

  /** @internal Adds a Window Update increment to our send window. */
  incrementSendWindow(increment: number): void {
    if (increment === 0 || this.#isReset) return;
    const next = this.#sendWindow + increment;
    if (next > MAX_UINT32) {
      throw new YamuxProtocolError(`send window overflow on stream ${this.id}`);
    }
    this.#sendWindow = next;
    const waiter = this.#windowWaiter;
    this.#windowWaiter = null;
    waiter?.resolve();
  }

  /** @internal Checks a Data header against the receive window and reserves its length. */
  reserveData(length: number): void {
    if (this.#remoteClosed && length > 0) {
      throw new YamuxProtocolError(`data after FIN on stream ${this.id}`);
    }
    if (length > this.#recvWindow) {
      throw new YamuxProtocolError(
        `receive window exceeded on stream ${this.id} (window ${this.#recvWindow}, got ${length})`,
      );
    }
    this.#recvWindow -= length;
    this.#lastActivity = performance.now();
  }

  /** @internal Takes a piece of Data payload (copied; `bytes` may be reused by the caller). */
  pushData(bytes: Uint8Array): void {
    if (this.#isReset || this.#readError) return;
    if (this.#readCancelled) {
      this.#sendWindowUpdate(0);
      return;
    }
    this.#queue.push(bytes.slice());
    this.#buffered += bytes.length;
    if (this.#buffered > this.#maxBuffered) this.#maxBuffered = this.#buffered;
    this.#wakeReader();
  }

  /** @internal The session ended: buffered data stays readable, then the reader sees `error`. */
  terminate(error: Error): void {
    if (!this.#remoteClosed) this.#readError ??= error;
    this.#failWrites(error);
    this.#wakeReader();
    this.#finish();
  }

  // ---- receive side -------------------------------------------------------

  #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> | void {
    if (this.#deliver(controller)) return;
    return new Promise((resolve) => this.#pullWaiter = resolve);
  }

  /** Satisfies one pull: a chunk, the end, or the error. False when there is nothing yet. */
  #deliver(controller: ReadableStreamDefaultController<Uint8Array>): boolean {
    if (this.#readFinished) return true;
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#buffered -= chunk.length;
      controller.enqueue(chunk);
      this.#sendWindowUpdate(0);
      return true;
    }
    if (this.#remoteClosed) {
      this.#readFinished = true;
      controller.close();
      return true;
    }
    if (this.#readError) {
      this.#readFinished = true;
      controller.error(this.#readError);
      return true;
    }
    return false;
  }

  #wakeReader(): void {
    const waiter = this.#pullWaiter;
    if (waiter && this.#deliver(this.#readController)) {
      this.#pullWaiter = null;
      waiter();
    }
  }

  #cancelRead(): void {
    this.#readCancelled = true;
    this.#readFinished = true;
    this.#dropQueue();
    this.#sendWindowUpdate(0);
  }

  #dropQueue(): void {
    this.#queue = [];
    this.#buffered = 0;
  }

  /** Grants the peer what we have room for, if that is worth a frame (or flags must go out). */
  #sendWindowUpdate(flags: number): void {
    if (flags === 0 && (this.#remoteClosed || this.#isReset || this.#readError)) return;
    const max = this.#host.maxWindow;
    const delta = max - this.#buffered - this.#recvWindow;
    if (delta < max / 2 && flags === 0) return;
    this.#recvWindow += delta;
    this.#host.sender.control(FrameType.WindowUpdate, flags, this.id, delta);
  }

  // ---- send side ----------------------------------------------------------

  /**
   * Writes `chunk` without going through {@link writable} (one hop less per
   * chunk, for bulk data); resolves once all of it is queued for the
   * connection, after which the caller may reuse it. Writes made while an
   * earlier one waits for window are queued behind it, so chunks never
   * interleave. Do not mix with writes through `writable`.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      return Promise.reject(new TypeError("yamux streams carry Uint8Array chunks"));
    }
    if (this.#writeInProgress) {
      const queued = this.#writeInProgress.then(
        () => this.#writeFrom(chunk, 0),
        () => this.#writeFrom(chunk, 0),
      );
      return this.#trackWrite(queued);
    }
    let offset: number;
    try {
      offset = this.#queueData(chunk, 0);
    } catch (error) {
      return Promise.reject(error);
    }
    if (offset === chunk.length) return RESOLVED;
    return this.#trackWrite(this.#writeFrom(chunk, offset));
  }

  #trackWrite(writing: Promise<void>): Promise<void> {
    this.#writeInProgress = writing;
    const done = () => {
      if (this.#writeInProgress === writing) this.#writeInProgress = null;
    };
    writing.then(done, done);
    return writing;
  }

  /** Queues `chunk[offset..]`, waiting for window or room as needed. */
  async #writeFrom(chunk: Uint8Array, offset: number): Promise<void> {
    const sender = this.#host.sender;
    while (true) {
      offset = this.#queueData(chunk, offset);
      if (offset === chunk.length) return;
      if (this.#sendWindow === 0) {
        await this.#waitForWindow();
      } else {
        await sender.waitForRoom(HEADER_SIZE + Math.min(this.#sendWindow, MAX_DATA_FRAME));
      }
    }
  }

  /**
   * Queues as much of `chunk[offset..]` as window and send buffer allow
   * right now; returns the new offset. Throws once the stream cannot send.
   */
  #queueData(chunk: Uint8Array, offset: number): number {
    const sender = this.#host.sender;
    while (offset < chunk.length) {
      this.#assertWritable();
      if (this.#sendWindow === 0) return offset;
      const size = Math.min(this.#sendWindow, chunk.length - offset, MAX_DATA_FRAME);
      if (!sender.hasRoomFor(HEADER_SIZE + size)) return offset;
      sender.data(0, this.id, chunk.subarray(offset, offset + size));
      this.#sendWindow -= size;
      offset += size;
    }
    return offset;
  }

  #assertWritable(): void {
    if (this.#writeError) throw this.#writeError;
    if (this.#localClosed) throw new YamuxError(`stream ${this.id} is closed for writing`);
  }

  #waitForWindow(): Promise<void> {
    return new Promise((resolve, reject) => this.#windowWaiter = { resolve, reject });
  }

  #sendFin(): void {
    if (this.#writeError) throw this.#writeError;
    if (this.#localClosed) return;
    this.#localClosed = true;
    this.#host.sender.control(FrameType.WindowUpdate, Flag.FIN, this.id, 0);
    if (this.#remoteClosed) {
      this.#finish();
    } else {
      this.#startCloseTimer();
    }
  }

  #failWrites(error: Error): void {
    if (this.#writeError) return;
    this.#writeError = error;
    const waiter = this.#windowWaiter;
    this.#windowWaiter = null;
    waiter?.reject(error);
    try {
      this.#writeController.error(error);
    } catch {
      // The writable already closed or errored; nothing left to fail.
    }
  }

  // ---- lifecycle ----------------------------------------------------------

  #abort(error: StreamResetError): void {
    if (this.#isReset) return;
    this.#isReset = true;
    this.#dropQueue();
    this.#readError = error;
    if (!this.#readFinished) {
      this.#readFinished = true;
      this.#readController.error(error);
      const waiter = this.#pullWaiter;
      this.#pullWaiter = null;
      waiter?.();
    }
    this.#failWrites(error);
    this.#finish();
  }

  #startCloseTimer(): void {
    const timeout = this.#host.closeTimeoutMs;
    if (timeout <= 0 || this.#finished) return;
    this.#lastActivity = performance.now();
    const check = () => {
      const idle = performance.now() - this.#lastActivity;
      if (idle < timeout) {
        this.#closeTimer = setTimeout(check, timeout - idle);
        return;
      }
      this.#closeTimer = undefined;
      this.reset();
    };
    this.#closeTimer = setTimeout(check, timeout);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#host.streamDone(this);
    this.#resolveClosed();
  }
}
