/**
 * Request metadata helpers: who is calling (`client_name`), which request
 * this belongs to (`x-gitlab-correlation-id`), feature flags, and token v2
 * credentials from the shared secret. Each returns plain headers to merge
 * into `DialOptions.metadata` (every call) or `CallOptions.metadata` (one
 * call).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { featureFlagMetadata } from "./feature_flags.ts";
import { authorizationHeader, tokenInterceptor } from "./token.ts";

/** The header Gitaly logs as the calling program. */
export const CLIENT_NAME_KEY = "client_name";
/** The header that ties the call to the request that caused it. */
export const CORRELATION_ID_KEY = "x-gitlab-correlation-id";

/** `{ client_name: name }`: Gitaly logs it with every call. */
export function clientNameMetadata(name: string): Record<string, string> {
  return { [CLIENT_NAME_KEY]: name };
}

/** `{ "x-gitlab-correlation-id": id }`: Gitaly logs it and passes it on to git hooks. */
export function correlationIdMetadata(id: string): Record<string, string> {
  return { [CORRELATION_ID_KEY]: id };
}

/** A fresh random correlation id (the format does not matter to Gitaly). */
export function newCorrelationId(): string {
  return crypto.randomUUID();
}

/** What {@link outgoingMetadata} can combine. */
export interface OutgoingMetadata {
  /** Sent as `client_name`. */
  clientName?: string;
  /** Sent as `x-gitlab-correlation-id`. */
  correlationId?: string;
  /** Feature flag name (`_` or `-`) → enabled. */
  featureFlags?: Record<string, boolean>;
  /** Any other headers. */
  headers?: Record<string, string>;
}

/** All of `parts` as one header record, e.g. for `DialOptions.metadata`. */
export function outgoingMetadata(parts: OutgoingMetadata): Record<string, string> {
  return {
    ...(parts.clientName ? clientNameMetadata(parts.clientName) : {}),
    ...(parts.correlationId ? correlationIdMetadata(parts.correlationId) : {}),
    ...featureFlagMetadata(parts.featureFlags ?? {}),
    ...parts.headers,
  };
}

/** A grpc-js `Metadata` holding `headers`. */
export function toGrpcMetadata(headers: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return metadata;
}

/**
 * Token v2 as an interceptor, signing each call afresh: for
 * `DialOptions.interceptors` or per call. Works on every transport
 * (`DialOptions.token` does the same for a whole connection).
 */
export function rpcCredentialsV2(secret: string): grpc.Interceptor {
  return tokenInterceptor(secret);
}

/**
 * Token v2 as grpc-js call credentials, Go's `RPCCredentialsV2`. grpc-js
 * only sends call credentials over TLS; prefer {@link rpcCredentialsV2}
 * or `DialOptions.token` for Unix sockets and plain TCP.
 */
export function callCredentialsV2(secret: string): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    callback(null, toGrpcMetadata({ authorization: authorizationHeader(secret) }));
  });
}
