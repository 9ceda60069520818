/**
 * Dialing that waits for the connection, like Go's `grpc.DialContext` with
 * `WithBlock`: {@link dialContext} resolves once the channel is ready and
 * rejects when the signal aborts or the deadline passes, or at the first
 * failure that retrying will not fix when asked to
 * ({@link failOnNonTempDialError}).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { dial, type DialOptions } from "./dial.ts";

/** When to give up waiting for a connection. */
export interface ReadyOptions {
  /** Aborting stops the wait; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Absolute deadline (a `Date` or epoch milliseconds); passing it rejects with DeadlineExceeded. */
  deadline?: Date | number;
  /**
   * Reject as soon as connecting fails for a reason retrying will not fix
   * (nothing listening, no such socket, name not resolvable), instead of
   * retrying until the deadline. Go: `FailOnNonTempDialError(true)`.
   */
  failOnNonTempDialError?: boolean;
}

/** Options of {@link dialContext}: how to dial, and how long to wait. */
export interface DialContextOptions extends DialOptions, ReadyOptions {
  /**
   * For dialers that can do both (the {@link Pool}'s default): wait for
   * the connection before resolving. {@link dialContext} always waits.
   */
  block?: boolean;
}

/**
 * The connection could not be made. Shaped like a failed call's error
 * (`code` is a gRPC status code, `details` the message), so code that
 * handles call errors handles this too.
 */
export class DialError extends Error {
  /** `Unavailable` (connecting failed) or `DeadlineExceeded`. */
  readonly code: grpc.status;
  /** The whole message: `failed to dial "<address>": <reason>`. */
  readonly details: string;
  /** Why, without the address (e.g. `connect ECONNREFUSED 127.0.0.1:1`). */
  readonly reason: string;

  /** `address` is what was dialed, `reason` why it failed. */
  constructor(address: string, code: grpc.status, reason: string) {
    super(`failed to dial ${JSON.stringify(address)}: ${reason}`);
    this.name = "DialError";
    this.code = code;
    this.details = this.message;
    this.reason = reason;
  }
}

/**
 * The options Go's `client.FailOnNonTempDialError()` stands for: block
 * until connected, and fail at once when connecting fails for good.
 */
export function failOnNonTempDialError(): Pick<
  DialContextOptions,
  "block" | "failOnNonTempDialError"
> {
  return { block: true, failOnNonTempDialError: true };
}

/**
 * Dials `address` (see `dial` for schemes and options) and resolves once
 * the connection is ready. Rejects with a {@link DialError} (bad address:
 * an `AddressError` at once; deadline; with `failOnNonTempDialError`, a
 * failed connect) or with `signal.reason`; the half-made client is closed.
 */
export async function dialContext(
  address: string,
  options: DialContextOptions = {},
): Promise<grpc.Client> {
  options.signal?.throwIfAborted();
  const client = dial(address, {
    ...options,
    // A connection of its own, as Go's DialContext makes: grpc-js would
    // otherwise share one with other clients of the same target, along
    // with its backoff and error state.
    channelOptions: { "grpc.use_local_subchannel_pool": 1, ...options.channelOptions },
  });
  try {
    await waitForReady(client, address, options);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/**
 * Waits until `client`'s channel is ready (connecting it if idle).
 * `address` only names the target in errors.
 */
export function waitForReady(
  client: grpc.Client,
  address: string,
  options: ReadyOptions = {},
): Promise<void> {
  const channel = client.getChannel();
  const deadline = options.deadline === undefined ? Infinity : +options.deadline;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      error === undefined ? resolve() : reject(error);
    };
    const onAbort = () => finish(options.signal!.reason);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const check = (state: grpc.connectivityState) => {
      if (settled) return;
      if (state === grpc.connectivityState.READY) return finish();
      if (state === grpc.connectivityState.SHUTDOWN) {
        return finish(new DialError(address, grpc.status.UNAVAILABLE, "connection closed"));
      }
      if (Date.now() >= deadline) {
        return finish(new DialError(address, grpc.status.DEADLINE_EXCEEDED, "deadline exceeded"));
      }
      if (state === grpc.connectivityState.TRANSIENT_FAILURE && options.failOnNonTempDialError) {
        lastConnectError(client).then((reason) => {
          if (!isTemporary(reason)) finish(new DialError(address, grpc.status.UNAVAILABLE, reason));
        });
      }
      // Wait for the next change; a finite deadline also wakes us when it passes.
      channel.watchConnectivityState(state, watchDeadline(deadline), () => {
        check(channel.getConnectivityState(true));
      });
    };
    check(channel.getConnectivityState(true));
  });
}

/** grpc-js rejects an infinite deadline; a far-away one stands in, re-armed on each change. */
function watchDeadline(deadline: number): number {
  return Math.min(deadline, Date.now() + 3_600_000);
}

/**
 * Why the channel failed to connect. grpc-js keeps the reason to itself
 * but reports it in the status of calls that fail fast, so one is made
 * (to the health service: harmless if the channel recovered meanwhile).
 */
function lastConnectError(client: grpc.Client): Promise<string> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.alloc(0),
      new grpc.Metadata(),
      { deadline: Date.now() + 5_000 },
      (error) => resolve(error ? connectReason(error.details) : "connected"),
    );
  });
}

/** The innermost "Last error" of grpc-js's message, e.g. `connect ECONNREFUSED 127.0.0.1:1`. */
function connectReason(details: string): string {
  const parts = details.split("Last error: ");
  const last = parts[parts.length - 1].replace(/\.\s*Resolution note:.*$/s, "");
  return last.replace(/^Error: /, "").trim() || details;
}

/**
 * Go retries these (`Temporary()` errors); everything else is a reason to
 * give up. No reason known yet: wait for the next attempt.
 */
function isTemporary(reason: string): boolean {
  return reason === "connected" || reason === "null" ||
    /\b(ECONNRESET|ECONNABORTED|EAGAIN|ETIMEDOUT|EINTR|EMFILE|ENFILE)\b/.test(reason);
}
