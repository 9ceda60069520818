/**
 * `grpc.health.v1.Health`: `Check` answers the server's status (SERVING
 * until shutdown begins), `Watch` streams it. Authenticated like every call.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { MethodShape } from "../../server/adapter.ts";
import { grpcServiceDefinition, serviceInfo } from "../../proto/mod.ts";
import { notFound } from "../../server/errors.ts";
import {
  defineService,
  serverStream,
  type ServiceImplementation,
  unary,
} from "../../server/rpc.ts";

/** The serving states of `grpc.health.v1.HealthCheckResponse`. */
export { grpc_health_v1_HealthCheckResponse_ServingStatus as ServingStatus } from "../../proto/types.ts";
import { grpc_health_v1_HealthCheckResponse_ServingStatus as ServingStatus } from "../../proto/types.ts";

/** The service's full name. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/** Method shapes of the health service. */
export const healthMethods: MethodShape[] = serviceInfo(HEALTH_SERVICE).methods;

/** The grpc-js definition of the health service. */
export const healthDefinition: grpc.ServiceDefinition = grpcServiceDefinition(HEALTH_SERVICE);

/** Holds the current status and wakes watchers when it changes. */
export class HealthState {
  #status = ServingStatus.SERVING;
  #watchers = new Set<() => void>();

  get status(): ServingStatus {
    return this.#status;
  }

  set(status: ServingStatus): void {
    this.#status = status;
    this.#watchers.forEach((wake) => wake());
  }

  /** Resolves at the next change or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#watchers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#watchers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Our handlers; only the overall server ("") and known services are answered. */
export function healthService(state: HealthState, services: string[]): ServiceImplementation {
  const known = new Set(["", ...services]);
  const statusOf = (service: string) => {
    if (!known.has(service)) throw notFound("unknown service");
    return { status: state.status };
  };
  return defineService(HEALTH_SERVICE, {
    Check: unary((req) => Promise.resolve(statusOf(req.service))),
    Watch: serverStream(async (req, ctx, send) => {
      const service = req.service;
      if (!known.has(service)) return send({ status: ServingStatus.SERVICE_UNKNOWN });
      while (!ctx.signal.aborted) {
        await send({ status: state.status });
        await state.changed(ctx.signal);
      }
    }),
  });
}
