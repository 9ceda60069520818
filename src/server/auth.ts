/**
 * Token v2 authentication, as Gitaly checks it: the `authorization` metadata
 * is `Bearer v2.<hex hmac>.<unix seconds>`, where the HMAC is HMAC-SHA256 of
 * the timestamp text under the shared secret; valid 30 s either way.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Code, GrpcError } from "./errors.ts";

/** How far a token's timestamp may be from the server clock, in seconds. */
export const TOKEN_VALIDITY_SECONDS = 30;

/** Why a token was refused; `ok` when it was accepted. */
export type AuthOutcome =
  | "ok"
  | "missing"
  | "malformed"
  | "unsupported version"
  | "wrong signature"
  | "bad timestamp"
  | "timestamp too old"
  | "timestamp too new";

/** Signs a v2 token for `secret` at `nowSeconds` (what clients send). */
export function signV2Token(secret: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const ts = String(nowSeconds);
  return `v2.${hmacHex(secret, ts)}.${ts}`;
}

/**
 * Checks an `authorization` header value against `secret`. Returns why it
 * failed, so the caller can both count and decide.
 */
export function checkAuthorization(
  header: string | undefined,
  secret: string,
  nowSeconds = Date.now() / 1000,
): AuthOutcome {
  if (!header) return "missing";
  const match = /^bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) return "malformed";
  const parts = match[1].split(".");
  if (parts.length !== 3) return "malformed";
  const [version, sigHex, message] = parts;
  if (!/^([0-9a-fA-F]{2})*$/.test(sigHex)) return "malformed";
  if (version !== "v2") return "unsupported version";
  const expected = createHmac("sha256", secret).update(message).digest();
  const given = hexToBytes(sigHex);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return "wrong signature";
  }
  if (!/^[+-]?\d+$/.test(message)) return "bad timestamp";
  const issuedAt = Number(message);
  if (issuedAt < nowSeconds - TOKEN_VALIDITY_SECONDS) return "timestamp too old";
  if (issuedAt > nowSeconds + TOKEN_VALIDITY_SECONDS) return "timestamp too new";
  return "ok";
}

/** The gRPC error Gitaly returns for a refused outcome: no or bad token → Unauthenticated. */
export function authError(outcome: Exclude<AuthOutcome, "ok">): GrpcError {
  return isUnauthenticated(outcome)
    ? new GrpcError(Code.UNAUTHENTICATED, "authentication required")
    : new GrpcError(Code.PERMISSION_DENIED, "permission denied");
}

/**
 * The `status` label Gitaly's `gitaly_authentications_total` counts a
 * check under: `server disabled authentication` when no token is
 * configured (`outcome` undefined), `ok` (`would be ok` while
 * transitioning, as a warning that nothing is enforced), `unauthenticated`
 * for a missing or unreadable header, `denied` for a wrong token. Gitaly's
 * fifth value, `invalid`, is for checks failing with any other code, which
 * neither Gitaly's check nor ours produces.
 */
export function authenticationStatus(
  outcome: AuthOutcome | undefined,
  transitioning: boolean,
): string {
  if (outcome === undefined) return "server disabled authentication";
  if (outcome === "ok") return transitioning ? "would be ok" : "ok";
  return isUnauthenticated(outcome) ? "unauthenticated" : "denied";
}

/**
 * The `error` label of `gitaly_authentication_errors_total{version="v2"}`:
 * Gitaly counts why a well-formed v2 token failed, and nothing else.
 */
export function v2AuthenticationError(outcome: AuthOutcome): string | undefined {
  switch (outcome) {
    case "wrong signature":
      return "wrong hmac signature";
    case "bad timestamp":
      return "cannot parse timestamp";
    case "timestamp too old":
    case "timestamp too new":
      return outcome;
    default:
      return undefined;
  }
}

function isUnauthenticated(outcome: AuthOutcome): boolean {
  return outcome === "missing" || outcome === "malformed";
}

function hmacHex(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
