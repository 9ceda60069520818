/**
 * Gitaly's request limits: a concurrency limiter per RPC and repository
 * (`[[concurrency]]`, with its queue and queue wait, fixed or adaptive),
 * the pack-objects limiter (`[pack_objects_limiting]`, by repository or
 * user) and a token bucket per RPC and repository (`[[rate_limiting]]`).
 * A refused call gets Gitaly's `ResourceExhausted` with a
 * `gitaly.LimitError` detail.
 *
 * @module
 */
import { Code, GrpcError } from "./errors.ts";

/** Milliseconds since some fixed point; injectable for tests. */
export type Clock = () => number;

/** Why a call was dropped, as Gitaly labels `gitaly_requests_dropped_total`. */
export type DropReason = "max_size" | "max_time" | "other" | "rate";

/** The log fields of the call being limited (Gitaly's `limit.*` fields go there). */
export type LogFields = Record<string, string | number | boolean>;

/** What a limiter tells its observer (metrics, the call's log fields). */
export interface LimitMonitor {
  /** A call entered the queue; `queueLength` counts waiting and running calls of its key. */
  queued(key: string, queueLength: number, log: LogFields): void;
  /** A call left the queue (admitted or dropped). */
  dequeued(): void;
  /** A call was admitted after waiting `seconds`; `inProgress` counts the key's running calls. */
  entered(inProgress: number, seconds: number, log: LogFields): void;
  /** An admitted call finished. */
  exited(): void;
  /** A call was refused. */
  dropped(key: string, reason: DropReason, seconds: number, log: LogFields): void;
}

/** A monitor that ignores everything. */
export const NOOP_MONITOR: LimitMonitor = {
  queued() {},
  dequeued() {},
  entered() {},
  exited() {},
  dropped() {},
};

/** Gitaly's message when the queue of a key is full. */
export const MAX_QUEUE_SIZE_MESSAGE = "maximum queue size reached";
/** Gitaly's message when a call waited `max_queue_wait` in the queue. */
export const MAX_QUEUE_TIME_MESSAGE = "maximum time in concurrency queue reached";
/** Gitaly's message when a token bucket is empty. */
export const RATE_LIMIT_MESSAGE = "rate limit reached";

/** Gitaly's refusal: `ResourceExhausted` with a `LimitError` (retry after 0 s). */
export function limitError(message: string): GrpcError {
  return new GrpcError(Code.RESOURCE_EXHAUSTED, message).withDetail("gitaly.LimitError", {
    error_message: message,
    retry_after: { seconds: 0, nanos: 0 },
  });
}

/**
 * A concurrency limit that may change over time (Gitaly's adaptive limit):
 * `current()` is read whenever a slot is sought.
 */
export interface ConcurrencyLimit {
  current(): number;
}

/** A fixed limit. */
export function fixedLimit(limit: number): ConcurrencyLimit {
  return { current: () => limit };
}

/** How often Gitaly's adaptive calculator recalibrates. */
export const ADAPTIVE_CALIBRATION_MS = 30_000;

/**
 * Gitaly's adaptive limit: it starts at `initial` and each calibration
 * period raises it by one (additive increase) up to `max`. Gitaly lowers
 * it (multiplicative decrease, never below `min`) when its cgroup watchers
 * report CPU throttling or memory pressure; this server runs no cgroups,
 * so no such signal comes and the limit only grows.
 */
export class AdaptiveLimit implements ConcurrencyLimit {
  readonly #start: number;

  constructor(
    readonly setting: { initial: number; min: number; max: number },
    readonly clock: Clock = () => performance.now(),
    readonly periodMs: number = ADAPTIVE_CALIBRATION_MS,
  ) {
    this.#start = clock();
  }

  current(): number {
    const steps = Math.floor((this.clock() - this.#start) / this.periodMs);
    return Math.max(this.setting.min, Math.min(this.setting.max, this.setting.initial + steps));
  }
}

/** Options of {@link ConcurrencyLimiter}. */
export interface ConcurrencyOptions {
  /** Calls running at once per key; 0 or less: unlimited. */
  limit: ConcurrencyLimit;
  /** Calls waiting per key beyond the running ones; 0: unbounded. */
  maxQueueSize: number;
  /** Longest wait in the queue in ms; 0: unbounded. */
  maxQueueWaitMs: number;
  monitor?: LimitMonitor;
  clock?: Clock;
}

interface Waiter {
  admit: () => void;
}

/** The state of one key; dropped when no call of the key is left. */
class KeyState {
  /** Calls admitted and still running. */
  running = 0;
  /** Calls holding a queue place: waiting and running ones (Gitaly's queue tokens). */
  holders = 0;
  readonly waiters: Waiter[] = [];
}

/**
 * Limits how many calls of one key (repository) run at once, as Gitaly's
 * `ConcurrencyLimiter`: a call first takes a queue place (refused with
 * "maximum queue size reached" when `limit + maxQueueSize` calls of the key
 * already hold one), then waits for a slot, refused with "maximum time in
 * concurrency queue reached" after `maxQueueWaitMs`; an aborted call stops
 * waiting with the abort's reason. Slots go to waiters in arrival order.
 */
export class ConcurrencyLimiter {
  readonly #keys = new Map<string, KeyState>();
  readonly #monitor: LimitMonitor;
  readonly #clock: Clock;

  constructor(readonly options: ConcurrencyOptions) {
    this.#monitor = options.monitor ?? NOOP_MONITOR;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Keys with calls queued or running (for tests: states are dropped when idle). */
  get activeKeys(): number {
    return this.#keys.size;
  }

  /** Runs `fn` once a slot of `key` is free; refuses when the queue is full or the wait too long. */
  async limit<T>(
    key: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
    log: LogFields = {},
  ): Promise<T> {
    const limit = this.options.limit.current();
    if (limit <= 0) return await fn();
    const release = await this.acquire(key, signal, log);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Takes a slot of `key` (waiting as {@link limit} does); returns its release. */
  async acquire(key: string, signal?: AbortSignal, log: LogFields = {}): Promise<() => void> {
    const state = this.#state(key);
    const started = this.#clock();
    const { maxQueueSize, maxQueueWaitMs } = this.options;
    if (maxQueueSize > 0 && state.holders >= this.options.limit.current() + maxQueueSize) {
      this.#forget(key, state);
      this.#monitor.dropped(key, "max_size", this.#seconds(started), log);
      throw limitError(MAX_QUEUE_SIZE_MESSAGE);
    }
    state.holders++;
    this.#monitor.queued(key, state.holders, log);
    try {
      await this.#waitForSlot(state, signal, maxQueueWaitMs);
    } catch (err) {
      state.holders--;
      this.#monitor.dequeued();
      this.#forget(key, state);
      const timedOut = err instanceof GrpcError && err.message === MAX_QUEUE_TIME_MESSAGE;
      this.#monitor.dropped(key, timedOut ? "max_time" : "other", this.#seconds(started), log);
      throw err;
    }
    this.#monitor.dequeued();
    this.#monitor.entered(state.running, this.#seconds(started), log);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.running--;
      state.holders--;
      this.#monitor.exited();
      this.#wakeNext(state);
      this.#forget(key, state);
    };
  }

  #waitForSlot(state: KeyState, signal: AbortSignal | undefined, waitMs: number): Promise<void> {
    signal?.throwIfAborted();
    if (state.waiters.length === 0 && state.running < this.options.limit.current()) {
      state.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        admit: () => {
          done();
          state.running++;
          resolve();
        },
      };
      const leave = (error: unknown) => {
        done();
        const i = state.waiters.indexOf(waiter);
        if (i >= 0) state.waiters.splice(i, 1);
        reject(error);
      };
      const onAbort = () => leave(signal!.reason);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      state.waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (waitMs > 0) timer = setTimeout(() => leave(limitError(MAX_QUEUE_TIME_MESSAGE)), waitMs);
    });
  }

  #wakeNext(state: KeyState): void {
    while (state.waiters.length > 0 && state.running < this.options.limit.current()) {
      state.waiters.shift()!.admit();
    }
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (!state) this.#keys.set(key, state = new KeyState());
    return state;
  }

  #forget(key: string, state: KeyState): void {
    if (state.holders === 0 && this.#keys.get(key) === state) this.#keys.delete(key);
  }

  #seconds(started: number): number {
    return (this.#clock() - started) / 1000;
  }
}

/**
 * A token bucket per key, as Gitaly's `RateLimiter` (golang.org/x/time/rate
 * with one token every `intervalMs`, holding at most `burst`): a call takes
 * a token or is refused with "rate limit reached". Buckets of keys unused
 * for ten intervals are pruned.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #clock: Clock;
  #lastPrune: number;

  constructor(
    readonly intervalMs: number,
    readonly burst: number,
    readonly options: { clock?: Clock; onDrop?: () => void } = {},
  ) {
    this.#clock = options.clock ?? (() => performance.now());
    this.#lastPrune = this.#clock();
  }

  /** Number of buckets kept (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token of `key`, or throws Gitaly's refusal. */
  take(key: string): void {
    const now = this.#clock();
    this.#prune(now);
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, bucket = { tokens: this.burst, at: now });
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.intervalMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    this.options.onDrop?.();
    throw limitError(RATE_LIMIT_MESSAGE);
  }

  #prune(now: number): void {
    const idle = 10 * this.intervalMs;
    if (now - this.#lastPrune < idle) return;
    this.#lastPrune = now;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at > idle) this.#buckets.delete(key);
    }
  }
}
