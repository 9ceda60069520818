/**
 * A bound on how many git processes run at once. Each process takes a
 * token before it is spawned and gives it back when it is reaped; callers
 * beyond the bound queue, first come first served, and give up with
 * {@link SpawnTimeoutError} (`ResourceExhausted`) after the timeout, like
 * Gitaly's spawn tokens.
 *
 * @module
 */

/** Observers of the queue, for metrics. */
export interface SpawnLimitObserver {
  /** The queue length changed. */
  onQueueLength?: (length: number) => void;
  /** A caller waited `seconds` for its token (only callers that had to wait). */
  onWait?: (seconds: number) => void;
  /** A caller gave up waiting. */
  onTimeout?: () => void;
}

/** Waiting for a spawn token took longer than allowed. */
export class SpawnTimeoutError extends Error {
  /** gRPC code this error maps to at the boundary (`ResourceExhausted`). */
  readonly grpcCode = 8;

  /** Builds the error for the timeout that ran out. */
  constructor(timeoutMs: number) {
    super(`process spawn timed out after ${timeoutMs / 1000}s`);
    this.name = "SpawnTimeoutError";
  }
}

interface Waiter {
  grant: () => void;
  since: number;
}

/** The token bucket; see the module documentation. */
export class SpawnLimit {
  #available: number;
  #queue: Waiter[] = [];

  /** `max` tokens; waiting longer than `timeoutMs` fails. */
  constructor(
    readonly max: number,
    readonly timeoutMs: number,
    readonly observer: SpawnLimitObserver = {},
  ) {
    if (!(max >= 1)) throw new RangeError(`spawn limit must be at least 1, got ${max}`);
    this.#available = max;
  }

  /** Tokens in use. */
  get inUse(): number {
    return this.max - this.#available;
  }

  /** Callers waiting for a token. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves with a release function once a token is free; rejects on timeout or abort. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#available > 0 && this.#queue.length === 0) {
      this.#available--;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        since: performance.now(),
        grant: () => {
          cleanup();
          this.observer.onWait?.((performance.now() - waiter.since) / 1000);
          resolve(this.#releaser());
        },
      };
      const timer = setTimeout(() => {
        cleanup();
        this.#dequeue(waiter);
        this.observer.onTimeout?.();
        reject(new SpawnTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
      const onAbort = () => {
        cleanup();
        this.#dequeue(waiter);
        reject(signal!.reason);
      };
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
      this.observer.onQueueLength?.(this.#queue.length);
    });
  }

  #dequeue(waiter: Waiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
    this.observer.onQueueLength?.(this.#queue.length);
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) {
        this.observer.onQueueLength?.(this.#queue.length);
        next.grant(); // the token passes straight on
      } else {
        this.#available++;
      }
    };
  }
}
