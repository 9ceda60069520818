/**
 * Token v2 per-RPC credentials: every call carries
 * `authorization: Bearer v2.<hex HMAC-SHA256(secret, ts)>.<ts>`, signed
 * afresh so long-lived connections never send a stale token.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import type { Interceptor } from "@grpc/grpc-js";
import { metadataInterceptor } from "./interceptors.ts";

/** A v2 token for `secret`, issued at `nowSeconds` (Unix seconds). */
export function signTokenV2(
  secret: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): string {
  const ts = String(nowSeconds);
  return `v2.${createHmac("sha256", secret).update(ts).digest("hex")}.${ts}`;
}

/** The `authorization` header value for `secret`, signed now. */
export function authorizationHeader(secret: string): string {
  return `Bearer ${signTokenV2(secret)}`;
}

/**
 * An interceptor that signs every call with `secret`. grpc-js refuses call
 * credentials on insecure channels, and Gitaly sends tokens over plain TCP
 * and Unix sockets too, so the header is added here instead.
 */
export function tokenInterceptor(secret: string): Interceptor {
  return metadataInterceptor(() => ({ authorization: authorizationHeader(secret) }));
}
