/**
 * A Gitaly client library for Deno, after Gitaly 16.7's Go `client` and
 * `auth` packages.
 *
 * - Connecting: {@link dial} (returns at once, connects lazily) and
 *   {@link dialContext} (resolves when connected; `signal`/`deadline`,
 *   `failOnNonTempDialError`). Addresses: `unix:/path`, `tcp://host:port`,
 *   `tls://host:port` (optional `caCertificates`), `dns:///host:port`.
 *   Keepalive pings every 20 s, 10 s timeout.
 * - Credentials and metadata: `token` in the dial options (token v2 from
 *   the shared secret), {@link rpcCredentialsV2}, {@link clientNameMetadata},
 *   {@link correlationIdMetadata}, {@link featureFlagMetadata},
 *   {@link outgoingMetadata}.
 * - {@link Pool}: one connection per (address, token); {@link healthCheckDialer}.
 * - Typed service clients: {@link repositoryService}, {@link sshService}, …
 *   or {@link serviceClient} by name.
 * - Git transfers: {@link uploadPack}, {@link uploadPackWithSidechannel}
 *   (with {@link SidechannelRegistry} and {@link dialSidechannel}),
 *   {@link receivePack}, {@link uploadArchive}.
 *
 * ```ts
 * import { dialContext, repositoryService } from "@deno-gitaly/server/client";
 *
 * const conn = await dialContext("unix:/var/opt/gitaly/gitaly.socket", { token: "secret" });
 * const { exists } = await repositoryService(conn).repositoryExists({
 *   repository: { storage_name: "default", relative_path: "group/project.git" },
 * });
 * conn.close();
 * ```
 *
 * Messages use proto field names (`storage_name`); build them with
 * {@link Init}. Failed calls reject with grpc-js `ServiceError`s (`code`
 * is a {@link Code}, `details` the message).
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";

/** A connection to a Gitaly server (a grpc-js client). Close it with `close()`. */
export type Connection = grpc.Client;
/** The error a failed call rejects with: `code`, `details`, `metadata`. */
export type ServiceError = grpc.ServiceError;
/** gRPC status codes (`Code.NOT_FOUND`, …). */
export { Metadata, status as Code } from "@grpc/grpc-js";
export type {
  CallCredentials,
  ChannelCredentials,
  ChannelOptions,
  Client,
  Interceptor,
} from "@grpc/grpc-js";

// Connecting.
export {
  AddressError,
  dial,
  type DialOptions,
  KEEPALIVE_TIME_MS,
  KEEPALIVE_TIMEOUT_MS,
  parseAddress,
  type ParsedAddress,
  transportCredentials,
} from "./dial.ts";
export type { AddressScheme } from "./address.ts";
export {
  dialContext,
  type DialContextOptions,
  DialError,
  failOnNonTempDialError,
  type ReadyOptions,
  waitForReady,
} from "./connect.ts";

// Credentials and metadata.
export { authorizationHeader, signTokenV2 } from "./token.ts";
export {
  callCredentialsV2,
  CLIENT_NAME_KEY,
  clientNameMetadata,
  CORRELATION_ID_KEY,
  correlationIdMetadata,
  newCorrelationId,
  type OutgoingMetadata,
  outgoingMetadata,
  rpcCredentialsV2,
  toGrpcMetadata,
} from "./metadata.ts";
export {
  featureFlagMetadata,
  featureFlagMetadataKey,
  formatFeatureFlagList,
  parseFeatureFlagList,
} from "./feature_flags.ts";
export { describeError, isCallError, statusCodeName } from "./errors.ts";

// Pools and health.
export {
  defaultDialer,
  type Dialer,
  Pool,
  type PoolDialOptions,
  type PoolOptions,
} from "./pool.ts";
export {
  healthCheck,
  healthCheckDialer,
  HealthCheckError,
  type HealthCheckOptions,
  ServingStatus,
  servingStatusName,
} from "./health.ts";

// Typed service clients.
export {
  analysisService,
  blobService,
  cleanupService,
  commitService,
  conflictsService,
  diffService,
  healthService,
  hookService,
  internalGitaly,
  type IsUpper,
  type LowerCamel,
  lowerCamel,
  type MethodCall,
  objectPoolService,
  operationService,
  praefectInfoService,
  refService,
  refTransaction,
  remoteService,
  repositoryService,
  serverReflection,
  serverService,
  type ServiceClient,
  serviceClient,
  type ServiceName,
  smartHTTPService,
  sshService,
} from "./services.ts";
export type {
  BidiStreamCall,
  CallOptions,
  ClientStreamCall,
  RequestWriter,
  ResponseStream,
} from "./stream_calls.ts";

// Sidechannels and git transfers.
export {
  ClientSidechannel,
  type SidechannelCallback,
  SidechannelRegistry,
  SidechannelWaiter,
} from "../sidechannel/mod.ts";
export {
  dialSidechannel,
  dialSidechannelContext,
  type SidechannelDialOptions,
} from "./sidechannel_connect.ts";
export { type PostBody, postUploadPackWithSidechannel } from "./sidechannel.ts";
export {
  receivePack,
  type TransferOptions,
  uploadArchive,
  uploadPack,
  type UploadPackResult,
  uploadPackWithSidechannel,
  uploadPackWithSidechannelWithResult,
} from "./transfer.ts";
export type { ByteSink, ByteSource, TransferIO } from "./io.ts";

// Messages.
export type {
  Init,
  Repository,
  ServiceMethods,
  SSHReceivePackRequest,
  SSHUploadArchiveRequest,
  SSHUploadPackRequest,
  SSHUploadPackWithSidechannelRequest,
} from "../proto/types.ts";
/** Every generated message type and enum (`proto.Repository`, `proto.ObjectFormat`, …). */
export * as proto from "../proto/types.ts";
export { toProtoJson } from "./json.ts";
export { parseProtoJson, ProtoJsonError } from "./protojson.ts";
