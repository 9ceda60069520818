/**
 * Health checks: {@link healthCheck} asks `grpc.health.v1.Health/Check`,
 * {@link healthCheckDialer} wraps a dialer so that only connections to a
 * server answering `SERVING` are handed out (Go's `HealthCheckDialer`).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { grpc_health_v1_HealthCheckResponse_ServingStatus as ServingStatus } from "../proto/types.ts";
import type { Dialer } from "./pool.ts";
import { healthService } from "./services.ts";
import type { CallOptions } from "./stream_calls.ts";

/** The answers of `Health/Check` (`SERVING`, `NOT_SERVING`, …). */
export { ServingStatus };

/** Options of {@link healthCheck}. */
export interface HealthCheckOptions extends CallOptions {
  /** The service to ask about; empty (the default) means the whole server. */
  service?: string;
}

/** The server answered, but not `SERVING`. */
export class HealthCheckError extends Error {
  /** What the server answered. */
  readonly status: ServingStatus;

  /** `address` is the server asked, `status` its answer. */
  constructor(address: string, status: ServingStatus) {
    super(`health check of ${JSON.stringify(address)}: ${servingStatusName(status)}`);
    this.name = "HealthCheckError";
    this.status = status;
  }
}

/** The proto name of `status`, e.g. `NOT_SERVING`. */
export function servingStatusName(status: ServingStatus): string {
  return ServingStatus[status] ?? `UNKNOWN(${status})`;
}

/** Asks `conn`'s server for its health; rejects with the call's error (e.g. `Unavailable`). */
export async function healthCheck(
  conn: grpc.Client,
  options: HealthCheckOptions = {},
): Promise<ServingStatus> {
  const { service = "", ...callOptions } = options;
  const response = await healthService(conn).check({ service }, callOptions);
  return response.status;
}

/**
 * A dialer that dials with `base`, then checks health with the dial's
 * signal and deadline: a failed call or any answer but `SERVING` closes
 * the connection and rejects (the call's error, or a
 * {@link HealthCheckError}).
 */
export function healthCheckDialer(base: Dialer): Dialer {
  return async (address, options = {}) => {
    const conn = await base(address, options);
    try {
      const status = await healthCheck(conn, {
        signal: options.signal,
        deadline: options.deadline,
      });
      if (status !== ServingStatus.SERVING) throw new HealthCheckError(address, status);
      return conn;
    } catch (error) {
      conn.close();
      throw error;
    }
  };
}
