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
import { frameInPlace, varintSize, writeVarint } from "./bulk_bytes.ts";
import { EncodedResponses } from "./encoded_responses.ts";
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
    responseSerialize: responseSerializer(method.responseType),
    responseDeserialize: deserializer(method.responseType),
    originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
  };
}

/** `Type.encode(Type.fromObject(value))`; fromObject returns instances unchanged, so no copy. */
function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) =>
    asBuffer(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

/** Bytes fields at least this long take the fast path of {@link responseSerializer}. */
const BULK_BYTES = 4096;

/**
 * The response serializer: like {@link serializer}, except for messages
 * encoded by hand ({@link EncodedResponses}, already framed: passed on as
 * they are) and a message
 * holding nothing but one bytes field (a chunk of git's stdout, a blob's
 * data). A lent view (see `bulk_bytes.ts`) is framed in place, gRPC prefix
 * included, for grpc-js to send as it is; another large one is encoded by
 * hand into one reused buffer. grpc-js copies a serialized response into
 * its own frame buffer before `serialize` is called again (and never
 * compresses responses), so the reuse is safe on the server side; it spares
 * one allocation and one copy per chunk, which is most of what a bulk
 * response costs besides the socket. Client-side request serializers must
 * not do this: grpc-js may keep a serialized request for a retry.
 */
function responseSerializer(type: protobuf.Type): (value: unknown) => Buffer {
  const serialize = bulkSerializer(type);
  return (value) => value instanceof EncodedResponses ? value.frames : serialize(value);
}

function bulkSerializer(type: protobuf.Type): (value: unknown) => Buffer {
  const general = serializer(type);
  const bytesFieldIds = new Map<string, number>();
  for (const field of type.fieldsArray) {
    if (field.type === "bytes" && !field.repeated) bytesFieldIds.set(field.name, field.id);
  }
  if (bytesFieldIds.size === 0) return general;
  let scratch = Buffer.allocUnsafe(0);
  return (value) => {
    const single = singleBytesField(value, bytesFieldIds);
    if (!single) return general(value);
    const [id, bytes] = single;
    const frame = frameInPlace(bytes, id);
    if (frame) return frame;
    if (bytes.byteLength < BULK_BYTES) return general(value);
    const size = varintSize(id << 3) + varintSize(bytes.byteLength) + bytes.byteLength;
    if (scratch.byteLength < size) {
      scratch = Buffer.allocUnsafe(Math.max(size, 2 * scratch.byteLength));
    }
    let at = writeVarint(scratch, 0, (id << 3) | 2);
    at = writeVarint(scratch, at, bytes.byteLength);
    scratch.set(bytes, at);
    return scratch.subarray(0, at + bytes.byteLength);
  };
}

/** `[field id, bytes]` when `value` is a plain object whose only key is a non-empty bytes field. */
function singleBytesField(
  value: unknown,
  bytesFieldIds: Map<string, number>,
): [number, Uint8Array] | undefined {
  if (
    typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype
  ) {
    return undefined;
  }
  let found: [number, Uint8Array] | undefined;
  for (const key in value) {
    if (found) return undefined;
    const bytes = (value as Record<string, unknown>)[key];
    const id = bytesFieldIds.get(key);
    if (id === undefined || !(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
      return undefined;
    }
    found = [id, bytes];
  }
  return found;
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
