/**
 * A pool of connections keyed by (address, token), like Gitaly's Go
 * `client.Pool`: asking twice for the same pair gives the same connection,
 * `close()` closes them all. Connections handed out belong to the pool:
 * their `close()` does nothing, so a caller cannot pull one out from under
 * the others.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { dialContext, type DialContextOptions } from "./connect.ts";
import { dial } from "./dial.ts";

/**
 * Makes a connection: Go's `client.Dialer`. The options carry the token
 * and whatever the pool was configured with; a dialer may wait for the
 * connection (honouring `signal`/`deadline`) or return at once.
 */
export type Dialer = (address: string, options?: DialContextOptions) => Promise<grpc.Client>;

/**
 * The pool's default dialer: like Go's `client.Dial`, returns at once and
 * connects on the first call, unless `options.block` asks to wait (then
 * it is {@link dialContext}).
 */
export function defaultDialer(
  address: string,
  options: DialContextOptions = {},
): Promise<grpc.Client> {
  return options.block ? dialContext(address, options) : Promise.resolve(dial(address, options));
}

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** How to make connections (default {@link defaultDialer}); wrap it, e.g. `healthCheckDialer`. */
  dialer?: Dialer;
  /** Dial settings for every connection (TLS roots, metadata, channel options, `block`, …). */
  dialOptions?: Omit<DialContextOptions, "token" | "signal" | "deadline">;
}

/** Per-dial options of {@link Pool.dial}. */
export interface PoolDialOptions {
  /** Stops a waiting dialer. */
  signal?: AbortSignal;
  /** Deadline for a waiting dialer. */
  deadline?: Date | number;
}

/** One connection per (address, token); see the module docs. */
export class Pool {
  readonly #dialer: Dialer;
  readonly #dialOptions: PoolOptions["dialOptions"];
  readonly #connections = new Map<string, Promise<PooledConnection>>();

  /** A pool dialing with `options.dialer` and `options.dialOptions`. */
  constructor(options: PoolOptions = {}) {
    this.#dialer = options.dialer ?? defaultDialer;
    this.#dialOptions = options.dialOptions ?? {};
  }

  /**
   * The pool's connection to `address` signed with `token` (empty: no
   * token), dialed on first use. Concurrent callers share one dial; a
   * failed dial is not remembered (the dialer's error is passed on). Do
   * not close what this returns.
   */
  dial(address: string, token = "", options: PoolDialOptions = {}): Promise<grpc.Client> {
    if (address === "") return Promise.reject(new Error("address is empty"));
    const key = JSON.stringify([address, token]);
    let connection = this.#connections.get(key);
    if (!connection) {
      connection = this.#connect(address, token, options);
      this.#connections.set(key, connection);
      connection.catch(() => {
        if (this.#connections.get(key) === connection) this.#connections.delete(key);
      });
    }
    return connection.then((c) => c.shared);
  }

  /** How many connections the pool holds (or is making). */
  get size(): number {
    return this.#connections.size;
  }

  /** Closes every connection and empties the pool (it can be used again afterwards). */
  async close(): Promise<void> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    const settled = await Promise.allSettled(connections);
    for (const result of settled) {
      if (result.status === "fulfilled") result.value.owner.close();
    }
  }

  async #connect(address: string, token: string, options: PoolDialOptions) {
    const dialOptions: DialContextOptions = { ...this.#dialOptions, ...options };
    if (token !== "") dialOptions.token = token;
    return new PooledConnection(await this.#dialer(address, dialOptions));
  }
}

/** The real connection and the view callers get, whose `close()` does nothing. */
class PooledConnection {
  readonly owner: grpc.Client;
  readonly shared: grpc.Client;

  constructor(owner: grpc.Client) {
    this.owner = owner;
    this.shared = new Proxy(owner, {
      get(target, property) {
        if (property === "close") return closeIsOwnedByThePool;
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}

/** What `close()` does on a pooled connection: nothing; `Pool.close()` closes it. */
function closeIsOwnedByThePool(): void {}
