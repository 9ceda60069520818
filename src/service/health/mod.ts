/**
 * `grpc.health.v1.Health`: `Check` answers the server's status (SERVING
 * until shutdown begins), `Watch` streams it. Authenticated like every call.
 *
 * @module
 */
import protobuf from "protobufjs";
import type * as grpc from "@grpc/grpc-js";
import type { MethodShape } from "../../server/adapter.ts";
import { notFound } from "../../server/errors.ts";
import { serverStream, type ServiceImplementation, unary } from "../../server/rpc.ts";

/** The serving states of `grpc.health.v1.HealthCheckResponse`. */
export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  SERVICE_UNKNOWN = 3,
}

const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;

const root = protobuf.parse(HEALTH_PROTO, { keepCase: true }).root;
const requestType = root.lookupType("grpc.health.v1.HealthCheckRequest");
const responseType = root.lookupType("grpc.health.v1.HealthCheckResponse");

/** The service's full name. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/** Method shapes of the health service. */
export const healthMethods: MethodShape[] = [
  {
    service: HEALTH_SERVICE,
    name: "Check",
    path: `/${HEALTH_SERVICE}/Check`,
    requestStream: false,
    responseStream: false,
  },
  {
    service: HEALTH_SERVICE,
    name: "Watch",
    path: `/${HEALTH_SERVICE}/Watch`,
    requestStream: false,
    responseStream: true,
  },
];

/** The grpc-js definition of the health service. */
export const healthDefinition = Object.fromEntries(
  healthMethods.map((m) => [m.name, {
    path: m.path,
    requestStream: m.requestStream,
    responseStream: m.responseStream,
    requestSerialize: (v: object) => encode(requestType, v),
    requestDeserialize: (b: Uint8Array) => requestType.decode(b),
    responseSerialize: (v: object) => encode(responseType, v),
    responseDeserialize: (b: Uint8Array) => responseType.decode(b),
  }]),
) as unknown as grpc.ServiceDefinition;

function encode(type: protobuf.Type, value: object) {
  return type.encode(type.fromObject(value)).finish();
}

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

interface HealthCheckRequest {
  service: string;
}

/** Our handlers; only the overall server ("") and known services are answered. */
export function healthService(state: HealthState, services: string[]): ServiceImplementation {
  const known = new Set(["", ...services]);
  const statusOf = (service: string) => {
    if (!known.has(service)) throw notFound("unknown service");
    return { status: state.status };
  };
  return {
    service: HEALTH_SERVICE,
    handlers: {
      Check: unary((req: HealthCheckRequest) => Promise.resolve(statusOf(req.service))),
      Watch: serverStream(async (req: HealthCheckRequest, ctx, send) => {
        const service = req.service;
        if (!known.has(service)) return send({ status: ServingStatus.SERVICE_UNKNOWN });
        while (!ctx.signal.aborted) {
          await send({ status: state.status });
          await state.changed(ctx.signal);
        }
      }),
    },
  };
}
