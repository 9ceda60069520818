/**
 * The outbound half of a session: frames are encoded straight into a batch
 * buffer, and one write loop hands whole batches to the connection, so many
 * small frames (window updates, pings, small writes) cost one write. While
 * a batch is being written the next one fills, so a busy session writes
 * fewer, larger chunks. Written batches go back to a small pool: pack data
 * passes through the same few buffers instead of fresh allocations (which
 * cost zeroing and garbage collection per batch).
 *
 * @module
 */

import { FrameType, HEADER_SIZE } from "./const.ts";
import { encodeHeader } from "./frame.ts";

/** Tuning for a {@link FrameSender}. */
export interface FrameSenderOptions {
  /** Capacity of one batch buffer. */
  batchSize: number;
  /** Queued bytes above which {@link FrameSender.waitForRoom} blocks. */
  limit: number;
  /** Called once when a write to the connection fails. */
  onError: (error: unknown) => void;
  /** Writes a chunk, instead of the writer's `write` (see `YamuxTransport.write`). */
  write?: (chunk: Uint8Array) => Promise<void>;
}

/** Written batch buffers kept for reuse. */
const POOL_SIZE = 2;

/** Encodes frames into batches and writes them to a connection in order. */
export class FrameSender {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #write: (chunk: Uint8Array) => Promise<void>;
  readonly #options: FrameSenderOptions;
  #batch: Uint8Array | null = null;
  #fill = 0;
  readonly #pool: Uint8Array[] = [];
  readonly #sealed: Uint8Array[] = [];
  #sealedBytes = 0;
  #inFlightBytes = 0;
  #wakeLoop: (() => void) | null = null;
  #roomWaiters: Array<{ size: number; resolve: () => void; reject: (error: Error) => void }> = [];
  #flushWaiters: Array<() => void> = [];
  #stopped: Error | null = null;
  #writerEnded = false;
  readonly #loopDone: Promise<void>;

  /**
   * Starts the write loop on `writer`, whose writes must resolve only once
   * the chunk is no longer needed (the buffer is reused afterwards).
   */
  constructor(writer: WritableStreamDefaultWriter<Uint8Array>, options: FrameSenderOptions) {
    this.#writer = writer;
    this.#write = options.write ?? ((chunk) => writer.write(chunk));
    this.#options = options;
    this.#loopDone = this.#writeLoop();
  }

  /** Bytes queued or being written. */
  get bufferedBytes(): number {
    return this.#fill + this.#sealedBytes + this.#inFlightBytes;
  }

  /** True once the sender stopped (connection failed or closed). */
  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /** True when a frame of `size` bytes fits under the limit (an empty queue always has room). */
  hasRoomFor(size: number): boolean {
    const queued = this.bufferedBytes;
    return queued === 0 || queued + size <= this.#options.limit;
  }

  /** Resolves once a frame of `size` bytes fits; rejects when the sender stops. */
  waitForRoom(size = 0): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.hasRoomFor(size)) return Promise.resolve();
    return new Promise((resolve, reject) => this.#roomWaiters.push({ size, resolve, reject }));
  }

  /** Resolves once everything queued so far has been written (or the sender stopped). */
  flush(): Promise<void> {
    if (this.#stopped || this.bufferedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  /** Queues a frame without payload. Control frames are never refused for lack of room. */
  control(type: number, flags: number, streamId: number, length: number): void {
    if (this.#stopped) return;
    const at = this.#reserve(HEADER_SIZE);
    encodeHeader(type, flags, streamId, length, this.#batch!, at);
    this.#kick();
  }

  /** Queues a Data frame; `payload` is copied, so the caller may reuse it at once. */
  data(flags: number, streamId: number, payload: Uint8Array): void {
    if (this.#stopped) throw this.#stopped;
    const at = this.#reserve(HEADER_SIZE + payload.length);
    const batch = this.#batch!;
    encodeHeader(FrameType.Data, flags, streamId, payload.length, batch, at);
    batch.set(payload, at + HEADER_SIZE);
    this.#kick();
  }

  /** Resolves when the write loop has exited (after {@link stop} or a failed write). */
  get done(): Promise<void> {
    return this.#loopDone;
  }

  /**
   * Stops the write loop: queued frames are dropped and waiters are rejected
   * with `reason`. With `graceful` the connection's writable is closed after
   * the write in flight, otherwise aborted. The result settles when that
   * close or abort does; an in-flight write that never finishes only ends
   * when the caller closes the connection itself.
   */
  stop(reason: Error, graceful: boolean): Promise<void> {
    const healthy = !this.#stopped;
    if (healthy) {
      this.#stopped = reason;
      this.#dropQueue();
      this.#rejectRoomWaiters(reason);
      this.#resolveFlushWaiters();
      this.#kick();
    }
    if (this.#writerEnded) return Promise.resolve();
    this.#writerEnded = true;
    const ending = graceful && healthy ? this.#writer.close() : this.#writer.abort(reason);
    return ending.catch(() => {});
  }

  #reserve(size: number): number {
    if (this.#batch && this.#fill + size > this.#batch.length) this.#seal();
    if (!this.#batch) this.#batch = this.#newBatch(size);
    const at = this.#fill;
    this.#fill += size;
    return at;
  }

  #newBatch(size: number): Uint8Array {
    if (size <= this.#options.batchSize) {
      return this.#pool.pop() ?? new Uint8Array(this.#options.batchSize);
    }
    return new Uint8Array(size);
  }

  #seal(): void {
    const batch = this.#batch;
    if (!batch || this.#fill === 0) return;
    const sealed = batch.subarray(0, this.#fill);
    this.#batch = null;
    this.#fill = 0;
    this.#sealed.push(sealed);
    this.#sealedBytes += sealed.length;
  }

  /** Takes a written batch back for reuse. */
  #recycle(chunk: Uint8Array): void {
    const buffer = chunk.buffer as ArrayBuffer;
    if (buffer.byteLength !== this.#options.batchSize || this.#pool.length >= POOL_SIZE) return;
    this.#pool.push(new Uint8Array(buffer));
  }

  #kick(): void {
    const wake = this.#wakeLoop;
    if (wake) {
      this.#wakeLoop = null;
      wake();
    }
  }

  async #writeLoop(): Promise<void> {
    while (!this.#stopped) {
      const chunk = this.#nextChunk();
      if (!chunk) {
        await new Promise<void>((resolve) => this.#wakeLoop = resolve);
        continue;
      }
      this.#inFlightBytes = chunk.length;
      try {
        await this.#write(chunk);
      } catch (error) {
        this.#inFlightBytes = 0;
        if (!this.#stopped) this.#failed(error);
        return;
      }
      this.#inFlightBytes = 0;
      this.#recycle(chunk);
      this.#afterWrite();
    }
  }

  #nextChunk(): Uint8Array | undefined {
    if (this.#sealed.length === 0) this.#seal();
    const chunk = this.#sealed.shift();
    if (chunk) this.#sealedBytes -= chunk.length;
    return chunk;
  }

  #afterWrite(): void {
    if (this.#roomWaiters.length > 0) {
      // Wake everyone who fits now; each re-checks before queueing, so the limit holds.
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const waiter of waiters) {
        if (this.hasRoomFor(waiter.size)) waiter.resolve();
        else this.#roomWaiters.push(waiter);
      }
    }
    if (this.bufferedBytes === 0) this.#resolveFlushWaiters();
  }

  #failed(error: unknown): void {
    const reason = error instanceof Error ? error : new Error(String(error));
    this.#stopped = reason;
    this.#dropQueue();
    this.#rejectRoomWaiters(reason);
    this.#resolveFlushWaiters();
    this.#options.onError(error);
  }

  #dropQueue(): void {
    this.#pool.length = 0;
    this.#batch = null;
    this.#fill = 0;
    this.#sealed.length = 0;
    this.#sealedBytes = 0;
  }

  #rejectRoomWaiters(reason: Error): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const waiter of waiters) waiter.reject(reason);
  }

  #resolveFlushWaiters(): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
