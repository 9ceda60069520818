/**
 * Sidechannel failures, worded as Gitaly words them (handlers put these
 * messages into their gRPC errors, and clients compare them).
 *
 * @module
 */
import { UnexpectedEofError } from "../backchannel/prefix_reader.ts";
import { SessionClosedError, StreamResetError, YamuxTimeoutError } from "../yamux/const.ts";

/** A sidechannel could not be opened or used; `message` is Gitaly's wording. */
export class SidechannelError extends Error {
  /** Creates the error; `cause` keeps the underlying failure. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SidechannelError";
  }
}

/** A waiter was closed before the server connected its sidechannel. */
export class CallbackDidNotRunError extends SidechannelError {
  /** Creates the error with Gitaly's message. */
  constructor() {
    super("sidechannel: callback de-registered without having run");
    this.name = "CallbackDidNotRunError";
  }
}

/** The handshake or a read did not finish in time (hashicorp/yamux's wording). */
export class DeadlineError extends Error {
  /** Creates the error. */
  constructor() {
    super("i/o deadline reached");
    this.name = "DeadlineError";
  }
}

/**
 * The short Go-style description of a stream failure: `EOF`,
 * `unexpected EOF`, `stream reset`, `session shutdown`, … — what Gitaly
 * prints after its own prefix.
 */
export function describeStreamError(error: unknown): string {
  if (error instanceof UnexpectedEofError || error instanceof DeadlineError) return error.message;
  if (error instanceof StreamResetError) return "stream reset";
  if (error instanceof SessionClosedError) return "session shutdown";
  if (error instanceof YamuxTimeoutError) return "i/o deadline reached";
  return error instanceof Error ? error.message : String(error);
}

/**
 * Settles like `promise`, or rejects with {@link DeadlineError} after `ms`
 * (calling `onTimeout` first) or with the signal's reason when it aborts.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  options: { signal?: AbortSignal; onTimeout?: () => void } = {},
): Promise<T> {
  const { signal, onTimeout } = options;
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanup();
      onTimeout?.();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      cleanup();
      onTimeout?.();
      reject(new DeadlineError());
    }, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error) => {
        cleanup();
        reject(error);
      },
    );
  });
}
