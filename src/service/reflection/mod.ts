/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection` and the older
 * `grpc.reflection.v1alpha.ServerReflection`), answered from the descriptors
 * embedded in `src/proto/generated.ts`, so tools like grpcurl can list and
 * describe the server's services.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { gitalyServices, grpcServiceDefinition } from "../../proto/mod.ts";
import { buildDescriptorIndex, type DescriptorIndex } from "./descriptor_index.ts";
import {
  InvalidReflectionRequest,
  type ReflectionRequest,
  type ReflectionResponse,
  respond,
} from "./respond.ts";

/** The two reflection services this module registers. */
export const REFLECTION_SERVICES: readonly string[] = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

/**
 * Registers both reflection services on `server`. `list_services` answers
 * every `gitaly` service, the reflection services themselves and
 * `extraServices` (e.g. `grpc.health.v1.Health`), sorted. Any embedded file or
 * symbol can be described, listed or not.
 */
export function registerReflection(
  server: grpc.Server,
  extraServices: readonly string[] = [],
): void {
  const services = listedServices(extraServices);
  let index: DescriptorIndex | undefined;
  const handler: grpc.handleBidiStreamingCall<ReflectionRequest, ReflectionResponse> = (
    call,
  ) => {
    index ??= buildDescriptorIndex();
    const stream = { index, services, sent: new Set<string>() };
    call.on("data", (request: ReflectionRequest) => {
      try {
        call.write(respond(request, stream));
      } catch (error) {
        const code = error instanceof InvalidReflectionRequest
          ? grpc.status.INVALID_ARGUMENT
          : grpc.status.INTERNAL;
        call.emit("error", { code, details: (error as Error).message });
      }
    });
    call.on("end", () => call.end());
  };
  for (const name of REFLECTION_SERVICES) {
    server.addService(grpcServiceDefinition(name), { ServerReflectionInfo: handler });
  }
}

function listedServices(extra: readonly string[]): string[] {
  const names = new Set([
    ...gitalyServices().map((s) => s.fullName),
    ...REFLECTION_SERVICES,
    ...extra,
  ]);
  return [...names].sort();
}
