/**
 * Typed clients for every service in `ServiceMethods`, derived from the
 * generated method tables rather than written out: method names in
 * lowerCamelCase (`RepositoryExists` → `repositoryExists`,
 * `SSHUploadPack` → `sshUploadPack`); unary methods return a `Promise`,
 * server-streaming ones an `AsyncIterable`, client-streaming and bidi ones
 * a small stream object (see `stream_calls.ts`).
 *
 *     const exists = await repositoryService(conn).repositoryExists({ repository });
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition, type MethodInfo, serviceInfo } from "../proto/mod.ts";
import type { Init, ServiceMethods } from "../proto/types.ts";
import {
  type BidiStreamCall,
  bidiStreamCall,
  type CallOptions,
  type ClientStreamCall,
  clientStreamCall,
  type MethodCodec,
  type ResponseStream,
  serverStreamCall,
  unaryCall,
} from "./stream_calls.ts";

/** Fully qualified names of the services with typed clients (`gitaly.RepositoryService`, …). */
export type ServiceName = keyof ServiceMethods;

/** Whether `C` is an upper-case letter (`true` or `false`). */
export type IsUpper<C extends string> = C extends Lowercase<C> ? false : true;

/**
 * A method name in lowerCamelCase: a leading run of capitals is
 * lower-cased except for the one that starts the next word
 * (`SSHUploadPack` → `sshUploadPack`).
 */
export type LowerCamel<S extends string> = S extends `${infer A}${infer B}${infer Rest}`
  ? IsUpper<B> extends true
    ? Rest extends `${infer C}${string}`
      ? IsUpper<C> extends true ? `${Lowercase<A>}${LowerCamel<`${B}${Rest}`>}`
      : `${Lowercase<A>}${B}${Rest}`
    : Lowercase<S>
  : `${Lowercase<A>}${B}${Rest}`
  : Lowercase<S>;

/** The runtime twin of {@link LowerCamel}. */
export function lowerCamel(name: string): string {
  return name.replace(/^[A-Z]+(?=[A-Z][a-z0-9]|$)|^[A-Z]/, (head) => head.toLowerCase());
}

/** The client-side signature of one method shape from the generated tables. */
export type MethodCall<S> = S extends {
  request: infer Req;
  response: infer Res;
  requestStream: infer ClientStreams;
  responseStream: infer ServerStreams;
}
  ? ClientStreams extends true
    ? ServerStreams extends true ? (options?: CallOptions) => BidiStreamCall<Req, Res>
    : (options?: CallOptions) => ClientStreamCall<Req, Res>
  : ServerStreams extends true ? (request: Init<Req>, options?: CallOptions) => ResponseStream<Res>
  : (request: Init<Req>, options?: CallOptions) => Promise<Res>
  : never;

/** A typed client of service `N`: one lowerCamelCase method per RPC. */
export type ServiceClient<N extends ServiceName> = {
  [K in keyof ServiceMethods[N] & string as LowerCamel<K>]: MethodCall<ServiceMethods[N][K]>;
};

/**
 * A typed client of `service` over `conn` (from `dial`, `dialContext`, a
 * `Pool`, …). Closing is the connection's business, not the client's.
 */
export function serviceClient<N extends ServiceName>(
  service: N,
  conn: grpc.Client,
): ServiceClient<N> {
  const methods: Record<string, unknown> = {};
  for (const info of serviceInfo(service).methods) {
    methods[lowerCamel(info.name)] = bindMethod(conn, methodCodec(info), info);
  }
  return methods as ServiceClient<N>;
}

/**
 * Encoder and decoder of `method` (from `serviceInfo`/`methodByPath`),
 * for calls by name: requests may be plain objects or messages, responses
 * are decoded messages.
 */
export function methodCodec(method: MethodInfo): MethodCodec<unknown, unknown> {
  const grpcMethod = grpcServiceDefinition(method.service)[method.name];
  return {
    path: method.path,
    serialize: (value) => grpcMethod.requestSerialize(value),
    deserialize: (bytes) => grpcMethod.responseDeserialize(bytes as never),
  };
}

function bindMethod(
  conn: grpc.Client,
  codec: MethodCodec<unknown, unknown>,
  kind: { requestStream: boolean; responseStream: boolean },
): unknown {
  if (kind.requestStream && kind.responseStream) {
    return (options?: CallOptions) => bidiStreamCall(conn, codec, options);
  }
  if (kind.requestStream) return (options?: CallOptions) => clientStreamCall(conn, codec, options);
  if (kind.responseStream) {
    return (request: Init<unknown>, options?: CallOptions) =>
      serverStreamCall(conn, codec, request, options);
  }
  return (request: Init<unknown>, options?: CallOptions) =>
    unaryCall(conn, codec, request, options);
}

/** `gitaly.AnalysisService` over `conn`. */
export const analysisService = (conn: grpc.Client): ServiceClient<"gitaly.AnalysisService"> =>
  serviceClient("gitaly.AnalysisService", conn);
/** `gitaly.BlobService` over `conn`. */
export const blobService = (conn: grpc.Client): ServiceClient<"gitaly.BlobService"> =>
  serviceClient("gitaly.BlobService", conn);
/** `gitaly.CleanupService` over `conn`. */
export const cleanupService = (conn: grpc.Client): ServiceClient<"gitaly.CleanupService"> =>
  serviceClient("gitaly.CleanupService", conn);
/** `gitaly.CommitService` over `conn`. */
export const commitService = (conn: grpc.Client): ServiceClient<"gitaly.CommitService"> =>
  serviceClient("gitaly.CommitService", conn);
/** `gitaly.ConflictsService` over `conn`. */
export const conflictsService = (conn: grpc.Client): ServiceClient<"gitaly.ConflictsService"> =>
  serviceClient("gitaly.ConflictsService", conn);
/** `gitaly.DiffService` over `conn`. */
export const diffService = (conn: grpc.Client): ServiceClient<"gitaly.DiffService"> =>
  serviceClient("gitaly.DiffService", conn);
/** `grpc.health.v1.Health` over `conn`. */
export const healthService = (conn: grpc.Client): ServiceClient<"grpc.health.v1.Health"> =>
  serviceClient("grpc.health.v1.Health", conn);
/** `grpc.reflection.v1.ServerReflection` over `conn`. */
export const serverReflection = (
  conn: grpc.Client,
): ServiceClient<"grpc.reflection.v1.ServerReflection"> =>
  serviceClient("grpc.reflection.v1.ServerReflection", conn);
/** `gitaly.HookService` over `conn`. */
export const hookService = (conn: grpc.Client): ServiceClient<"gitaly.HookService"> =>
  serviceClient("gitaly.HookService", conn);
/** `gitaly.InternalGitaly` over `conn`. */
export const internalGitaly = (conn: grpc.Client): ServiceClient<"gitaly.InternalGitaly"> =>
  serviceClient("gitaly.InternalGitaly", conn);
/** `gitaly.ObjectPoolService` over `conn`. */
export const objectPoolService = (conn: grpc.Client): ServiceClient<"gitaly.ObjectPoolService"> =>
  serviceClient("gitaly.ObjectPoolService", conn);
/** `gitaly.OperationService` over `conn`. */
export const operationService = (conn: grpc.Client): ServiceClient<"gitaly.OperationService"> =>
  serviceClient("gitaly.OperationService", conn);
/** `gitaly.PraefectInfoService` over `conn`. */
export const praefectInfoService = (
  conn: grpc.Client,
): ServiceClient<"gitaly.PraefectInfoService"> => serviceClient("gitaly.PraefectInfoService", conn);
/** `gitaly.RefService` over `conn`. */
export const refService = (conn: grpc.Client): ServiceClient<"gitaly.RefService"> =>
  serviceClient("gitaly.RefService", conn);
/** `gitaly.RefTransaction` over `conn`. */
export const refTransaction = (conn: grpc.Client): ServiceClient<"gitaly.RefTransaction"> =>
  serviceClient("gitaly.RefTransaction", conn);
/** `gitaly.RemoteService` over `conn`. */
export const remoteService = (conn: grpc.Client): ServiceClient<"gitaly.RemoteService"> =>
  serviceClient("gitaly.RemoteService", conn);
/** `gitaly.RepositoryService` over `conn`. */
export const repositoryService = (conn: grpc.Client): ServiceClient<"gitaly.RepositoryService"> =>
  serviceClient("gitaly.RepositoryService", conn);
/** `gitaly.ServerService` over `conn`. */
export const serverService = (conn: grpc.Client): ServiceClient<"gitaly.ServerService"> =>
  serviceClient("gitaly.ServerService", conn);
/** `gitaly.SmartHTTPService` over `conn`. */
export const smartHTTPService = (conn: grpc.Client): ServiceClient<"gitaly.SmartHTTPService"> =>
  serviceClient("gitaly.SmartHTTPService", conn);
/** `gitaly.SSHService` over `conn`. */
export const sshService = (conn: grpc.Client): ServiceClient<"gitaly.SSHService"> =>
  serviceClient("gitaly.SSHService", conn);
