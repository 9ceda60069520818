/**
 * The runtime proto API for the server and the client. Everything comes from
 * the embedded generated module; nothing reads .proto files.
 *
 * - {@link root}: resolved protobufjs Root (keepCase field names; int64 decode
 *   to numbers).
 * - {@link gitalyServices}, {@link serviceInfo}, {@link methodByPath}: service
 *   and method metadata including `(op_type)`.
 * - {@link grpcServiceDefinition}: grpc-js service definitions.
 * - {@link requestRouting} and friends: where a request names its repository
 *   or storage.
 * - {@link embeddedFiles}: encoded FileDescriptorProtos for reflection.
 *
 * Message and service types live in `./types.ts`.
 *
 * @module
 */
export { default as protobuf } from "./protobuf.ts";
export { type EmbeddedFile, embeddedFiles, messageType, root } from "./root.ts";
export {
  gitalyServices,
  methodByPath,
  type MethodInfo,
  type ServiceInfo,
  serviceInfo,
} from "./services.ts";
export { grpcServiceDefinition } from "./grpc_definition.ts";
export {
  additionalRepositoryPath,
  type RequestRouting,
  requestRouting,
  storagePath,
  targetRepositoryPath,
  valueAtPath,
} from "./routing.ts";
export type { Operation, Scope } from "./annotations.ts";
