/**
 * grpc-js service definitions built from the embedded root, with protobufjs
 * doing the (de)serialization. Handlers receive decoded message instances;
 * they may answer with instances or plain objects.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type * as grpc from "@grpc/grpc-js";
import type protobuf from "./protobuf.ts";
import { type MethodInfo, serviceInfo } from "./services.ts";

const definitions = new Map<string, grpc.ServiceDefinition>();

/**
 * The grpc-js `ServiceDefinition` of service `fullName`
 * (`gitaly.RepositoryService`, `grpc.health.v1.Health`, …), keyed by the
 * proto method name (`RepositoryExists`) with `originalName` in lowerCamelCase
 * (`repositoryExists`), so implementations may use either. Cached.
 */
export function grpcServiceDefinition(fullName: string): grpc.ServiceDefinition {
  const key = fullName.replace(/^\./, "");
  let definition = definitions.get(key);
  if (!definition) {
    const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const method of serviceInfo(key).methods) {
      methods[method.name] = methodDefinition(method);
    }
    definition = methods;
    definitions.set(key, definition);
  }
  return definition;
}

function methodDefinition(method: MethodInfo): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: method.path,
    requestStream: method.requestStream,
    responseStream: method.responseStream,
    requestSerialize: serializer(method.requestType),
    requestDeserialize: deserializer(method.requestType),
    responseSerialize: serializer(method.responseType),
    responseDeserialize: deserializer(method.responseType),
    originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
  };
}

/** `Type.encode(Type.fromObject(value))`; fromObject returns instances unchanged, so no copy. */
function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) =>
    asBuffer(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

/** `Type.decode(buffer)`: bytes fields come back as views into the received buffer. */
function deserializer(type: protobuf.Type): (buffer: Buffer) => unknown {
  return (buffer) => type.decode(buffer);
}

/** grpc-js copies messages with `Buffer#copy`; protobufjs already makes Buffers when Node's Buffer exists. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
