/**
 * The `gitaly-servers` metadata Gitaly's clients send: base64 of JSON
 * `{"<storage>": {"address": "…", "token": "…"}}`, telling this server how
 * to reach storages it does not own.
 *
 * @module
 */
import type { Metadata } from "@grpc/grpc-js";
import { internal, invalidArgument } from "../../server/errors.ts";
import { metadataValue } from "../../server/rpc.ts";

/** How to reach one storage's server. */
export interface GitalyServerInfo {
  address: string;
  token: string;
}

/** The metadata key. */
export const GITALY_SERVERS_KEY = "gitaly-servers";

/** Builds the metadata value for `servers` (what callers such as Rails send). */
export function encodeGitalyServers(servers: Record<string, GitalyServerInfo>): string {
  const bytes = new TextEncoder().encode(JSON.stringify(servers));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * Decodes the metadata, or undefined when the call has none. A value that
 * is not base64 JSON of the right shape is `Internal`, as in Gitaly.
 */
export function gitalyServers(metadata: Metadata): Record<string, GitalyServerInfo> | undefined {
  const encoded = metadataValue(metadata, GITALY_SERVERS_KEY);
  if (encoded === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(base64Bytes(encoded)));
  } catch (err) {
    throw internal(`extracting Gitaly servers: ${(err as Error).message}`);
  }
  if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
    throw internal("extracting Gitaly servers: failed unmarshalling json");
  }
  const servers: Record<string, GitalyServerInfo> = {};
  for (const [storage, info] of Object.entries(decoded as Record<string, unknown>)) {
    const entry = (info ?? {}) as Record<string, unknown>;
    servers[storage] = { address: stringField(entry.address), token: stringField(entry.token) };
  }
  return servers;
}

/**
 * The server of `storage` from the call's metadata: missing metadata is
 * `Internal`, a storage it does not list or an empty address `InvalidArgument`
 * (Gitaly's wording for internal fetches).
 */
export function gitalyServerFor(metadata: Metadata, storage: string): GitalyServerInfo {
  const servers = gitalyServers(metadata);
  if (!servers) throw internal("extracting Gitaly servers: empty gitaly-servers metadata");
  const server = servers[storage];
  if (!server) throw invalidArgument(`no storage info for ${JSON.stringify(storage)}`);
  if (!server.address) throw invalidArgument("empty Gitaly address");
  return server;
}

function stringField(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function base64Bytes(encoded: string): Uint8Array {
  const binary = atob(encoded.trim());
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
