/**
 * The hooks payload: what a receive-pack's hooks need to call back into
 * the server, in `GITALY_HOOKS_PAYLOAD` as base64 of JSON, laid out as
 * Gitaly lays it out (so Gitaly's own gitaly-hooks could read ours): the
 * requested hooks as a bit set, the runtime directory, the internal socket
 * and its token, the Praefect transaction the hooks vote on (or null), the
 * pusher (`user_details`)
 * and the repository as a protobuf-JSON string (lowerCamelCase names).
 *
 * @module
 */
import type { Repository } from "../../proto/types.ts";
import { parseJsonWithIds, rawJsonId } from "../shared/json_ids.ts";
import type { Transaction } from "../shared/transaction.ts";

/** The environment variable that carries the payload. */
export const HOOKS_PAYLOAD_ENV = "GITALY_HOOKS_PAYLOAD";

/** The metadata key naming the pack-objects hook's socket. */
export const SIDECHANNEL_SOCKET_HEADER = "gitaly-sidechannel-socket";
/** The file name of that socket. */
export const SIDECHANNEL_SOCKET_NAME = "sidechannel";

/** Gitaly's hook bits. */
export const Hook = {
  ReferenceTransaction: 1,
  Update: 2,
  PreReceive: 4,
  PostReceive: 8,
  PackObjects: 16,
} as const;

/** Every hook of a push. */
export const RECEIVE_PACK_HOOKS = Hook.ReferenceTransaction | Hook.Update | Hook.PreReceive |
  Hook.PostReceive;
const ALL_HOOKS = RECEIVE_PACK_HOOKS | Hook.PackObjects;

/** Who pushes, and how. */
export interface UserDetails {
  username: string;
  /** The `gl_id`, e.g. `user-1`. */
  userid: string;
  /** `ssh`, `http` or `web`. */
  protocol: string;
  /** The client's address, when the caller said (`remote_ip` metadata). */
  remoteIp?: string;
}

/** The decoded payload. */
export interface HooksPayload {
  requestedHooks: number;
  featureFlags: { flag: string; enabled: boolean }[];
  runtimeDir: string;
  internalSocket: string;
  internalSocketToken: string;
  /** The transaction the reference-transaction hook votes on; null when there is none. */
  transaction: Transaction | null;
  userDetails?: UserDetails;
  repository: Partial<Repository>;
}

/** The payload cannot be used. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

const REPOSITORY_FIELDS = [
  ["storage_name", "storageName"],
  ["relative_path", "relativePath"],
  ["git_object_directory", "gitObjectDirectory"],
  ["git_alternate_object_directories", "gitAlternateObjectDirectories"],
  ["gl_repository", "glRepository"],
  ["gl_project_path", "glProjectPath"],
] as const;

/** The repository as protobuf JSON (lowerCamelCase, empty fields left out). */
export function repositoryJson(repo: Partial<Repository> | null | undefined): string {
  const out: Record<string, unknown> = {};
  for (const [field, json] of REPOSITORY_FIELDS) {
    const value = repo?.[field];
    if (Array.isArray(value) ? value.length : value) out[json] = value;
  }
  return JSON.stringify(out);
}

function parseRepository(text: unknown): Partial<Repository> {
  let parsed: unknown;
  try {
    parsed = typeof text === "string" ? JSON.parse(text) : text;
  } catch (error) {
    throw new PayloadError(`repository: ${(error as Error).message}`);
  }
  const obj = (parsed ?? {}) as Record<string, unknown>;
  const repo: Record<string, unknown> = {};
  for (const [field, json] of REPOSITORY_FIELDS) {
    const value = obj[json] ?? obj[field];
    if (field === "git_alternate_object_directories") {
      repo[field] = Array.isArray(value) ? value.map(String) : [];
    } else repo[field] = typeof value === "string" ? value : "";
  }
  return repo as Partial<Repository>;
}

/** The transaction in Gitaly's field order (`backchannel_id` left out when unknown). */
function transactionJson(tx: Transaction): Record<string, unknown> {
  return {
    ...(tx.backchannel_id ? { backchannel_id: tx.backchannel_id } : {}),
    id: rawJsonId(tx.id),
    node: tx.node,
    primary: tx.primary,
  };
}

function parseTransaction(value: unknown): Transaction | null {
  if (typeof value !== "object" || value === null) return null;
  const obj = value as Record<string, unknown>;
  const tx: Transaction = {
    id: typeof obj.id === "bigint" ? obj.id : BigInt(Math.trunc(Number(obj.id ?? 0)) || 0),
    node: String(obj.node ?? ""),
    primary: obj.primary === true,
  };
  if (obj.backchannel_id !== undefined) tx.backchannel_id = Number(obj.backchannel_id);
  return tx;
}

/** `GITALY_HOOKS_PAYLOAD=…`'s value for `payload`. */
export function encodeHooksPayload(payload: HooksPayload): string {
  const json = {
    requested_hooks: payload.requestedHooks,
    ...(payload.featureFlags.length ? { feature_flags_with_value: payload.featureFlags } : {}),
    runtime_dir: payload.runtimeDir,
    internal_socket: payload.internalSocket,
    internal_socket_token: payload.internalSocketToken,
    transaction: payload.transaction ? transactionJson(payload.transaction) : null,
    user_details: payload.userDetails
      ? {
        username: payload.userDetails.username,
        userid: payload.userDetails.userid,
        protocol: payload.userDetails.protocol,
        ...(payload.userDetails.remoteIp ? { remote_ip: payload.userDetails.remoteIp } : {}),
      }
      : null,
    repository: repositoryJson(payload.repository),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * A payload for the server's own hooks: the runtime directory and internal
 * socket of `runtime` (empty without one), the server's `token`, no
 * feature flags, and `fields` (no transaction unless given).
 */
export function serverHooksPayload(
  runtime: { readonly dir: string; readonly internalSocket: string } | undefined,
  token: string,
  fields:
    & Pick<HooksPayload, "requestedHooks" | "repository">
    & Partial<Pick<HooksPayload, "transaction" | "userDetails">>,
): HooksPayload {
  return {
    featureFlags: [],
    runtimeDir: runtime ? runtime.dir : "",
    internalSocket: runtime ? runtime.internalSocket : "",
    internalSocketToken: token,
    transaction: null,
    ...fields,
  };
}

/** Decodes the payload from `KEY=value` environment entries (as hook requests carry them). */
export function hooksPayloadFromEnv(env: readonly string[]): HooksPayload {
  const encoded = envValue(env, HOOKS_PAYLOAD_ENV);
  if (encoded === undefined) throw new PayloadError("no hooks payload found in environment");
  return decodeHooksPayload(encoded);
}

/** Decodes a payload value. */
export function decodeHooksPayload(encoded: string): HooksPayload {
  let json: Record<string, unknown>;
  try {
    const binary = atob(encoded);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    json = parseJsonWithIds(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (error) {
    throw new PayloadError((error as Error).message);
  }
  const details = (json.user_details ?? json.receive_hooks_payload) as
    | Record<string, unknown>
    | null
    | undefined;
  const requested = Number(json.requested_hooks) || ALL_HOOKS;
  return {
    requestedHooks: requested,
    featureFlags: Array.isArray(json.feature_flags_with_value)
      ? json.feature_flags_with_value as { flag: string; enabled: boolean }[]
      : [],
    runtimeDir: String(json.runtime_dir ?? ""),
    internalSocket: String(json.internal_socket ?? ""),
    internalSocketToken: String(json.internal_socket_token ?? ""),
    transaction: parseTransaction(json.transaction),
    userDetails: details
      ? {
        username: String(details.username ?? ""),
        userid: String(details.userid ?? ""),
        protocol: String(details.protocol ?? ""),
        ...(details.remote_ip ? { remoteIp: String(details.remote_ip) } : {}),
      }
      : undefined,
    repository: parseRepository(json.repository),
  };
}

/** The last value of `key` in `KEY=value` entries. */
export function envValue(env: readonly string[], key: string): string | undefined {
  let value: string | undefined;
  for (const entry of env) {
    const eq = entry.indexOf("=");
    if (eq > 0 && entry.slice(0, eq) === key) value = entry.slice(eq + 1);
  }
  return value;
}

/** The push options git hands a hook in `GIT_PUSH_OPTION_0..COUNT-1`. */
export function pushOptionsFromEnv(env: Record<string, string>): string[] {
  const count = Number(env.GIT_PUSH_OPTION_COUNT ?? 0);
  if (!Number.isInteger(count) || count <= 0) return [];
  return Array.from({ length: count }, (_, i) => env[`GIT_PUSH_OPTION_${i}`] ?? "");
}
