/**
 * Connecting to a Gitaly server, the way Gitaly's Go `client.Dial` does:
 * one address string picks the transport (see `address.ts`), TLS uses the
 * system roots unless told otherwise, a token signs every call, and
 * keepalive pings go out every 20 s (10 s timeout), also while idle.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type { Duplex } from "node:stream";
import { GoawayFilteredSocket } from "../http2/goaway_filter.ts";
import { parseAddress, type ParsedAddress } from "./address.ts";
import { staticMetadataInterceptor } from "./interceptors.ts";
import { tokenInterceptor } from "./token.ts";

export { AddressError, parseAddress, type ParsedAddress } from "./address.ts";

/** Options of {@link dial}. */
export interface DialOptions {
  /** Shared secret: every call carries a fresh token v2. */
  token?: string;
  /** PEM CA certificates trusted for `tls://` (default: system roots, or `SSL_CERT_FILE`). */
  caCertificates?: Uint8Array;
  /** Replaces the transport credentials the scheme would pick. */
  credentials?: grpc.ChannelCredentials;
  /** Headers added to every call (feature flags, client name, …). */
  metadata?: Record<string, string>;
  /** More interceptors, run after the token and metadata ones. */
  interceptors?: grpc.Interceptor[];
  /** grpc-js channel options; they override the defaults below. */
  channelOptions?: grpc.ChannelOptions;
}

/** Keepalive as Gitaly's clients send it; the server accepts this rate. */
export const KEEPALIVE_TIME_MS = 20_000;
/** How long a keepalive ping may stay unanswered before the connection is dropped. */
export const KEEPALIVE_TIMEOUT_MS = 10_000;

/** Channel defaults: keepalive, big windows for pack data, no resolver-provided service config. */
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": KEEPALIVE_TIME_MS,
  "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc-node.flow_control_window": 16 * 1024 * 1024,
  "grpc.service_config_disable_resolution": 1,
  // Spread calls over every address a dns:// name resolves to, as Gitaly does.
  "grpc.service_config": JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

/**
 * A client for the Gitaly server at `address`. The connection is made
 * lazily, on the first call; `close()` it when done. Throws
 * {@link AddressError} for an address it cannot dial.
 */
export function dial(address: string, options: DialOptions = {}): grpc.Client {
  const parsed = parseAddress(address);
  const credentials = withoutServerGoaway(
    options.credentials ?? transportCredentials(parsed, options.caCertificates),
  );
  return new grpc.Client(parsed.target, credentials, {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...options.channelOptions,
    interceptors: callInterceptors(options),
  });
}

const GOAWAY_FILTERED = Symbol("goaway-filtered");

/**
 * Makes every connection of `credentials` hide the server's GOAWAY frames
 * from Deno's HTTP/2, which can abort the whole process on one
 * (denoland/deno#36788; see src/http2/goaway_filter.ts). A client
 * embedding this library must survive a server restart.
 */
function withoutServerGoaway(credentials: grpc.ChannelCredentials): grpc.ChannelCredentials {
  type Connector = { connect(socket: unknown): Promise<{ socket: unknown; secure: boolean }> };
  const target = credentials as unknown as {
    [GOAWAY_FILTERED]?: true;
    _createSecureConnector(...args: unknown[]): Connector;
  };
  if (target[GOAWAY_FILTERED]) return credentials;
  target[GOAWAY_FILTERED] = true;
  const create = target._createSecureConnector.bind(credentials);
  target._createSecureConnector = (...args: unknown[]) => {
    const connector = create(...args);
    const connect = connector.connect.bind(connector);
    connector.connect = async (socket) => {
      const connected = await connect(socket);
      return {
        ...connected,
        socket: new GoawayFilteredSocket(connected.socket as Duplex, "client"),
      };
    };
    return connector;
  };
  return credentials;
}

function callInterceptors(options: DialOptions): grpc.Interceptor[] {
  const interceptors: grpc.Interceptor[] = [];
  if (options.token) interceptors.push(tokenInterceptor(options.token));
  if (options.metadata && Object.keys(options.metadata).length > 0) {
    interceptors.push(staticMetadataInterceptor(options.metadata));
  }
  return [...interceptors, ...(options.interceptors ?? [])];
}

/**
 * The credentials an address calls for: plain for `unix:`/`tcp://`/`dns:`,
 * TLS (Node's minimum is 1.2) for `tls://` with `caCertificates`,
 * `SSL_CERT_FILE`'s or the runtime's default roots.
 */
export function transportCredentials(
  address: ParsedAddress,
  caCertificates?: Uint8Array,
): grpc.ChannelCredentials {
  if (!address.secure) return grpc.credentials.createInsecure();
  const roots = caCertificates ?? certificateFileFromEnv();
  const credentials = grpc.credentials.createSsl(roots ? Buffer.from(roots) : null);
  if (isIpLiteral(address.target)) omitServerName(credentials);
  return credentials;
}

/** Whether a `host:port` target names its host by IP address. */
function isIpLiteral(target: string): boolean {
  const host = target.replace(/:\d+$/, "");
  return /^\[.*\]$/.test(host) || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/**
 * SNI must not carry an IP address (RFC 6066), and Deno's TLS refuses one,
 * while grpc-js always sends the host as server name. The connector is
 * made to connect without one (certificates are still checked against the
 * IP address); the connected socket gets the name back, as Deno's HTTP/2
 * builds its authority from it.
 */
function omitServerName(credentials: grpc.ChannelCredentials): void {
  type Connected = { socket: { servername?: string } };
  type Connector = {
    connectionOptions?: { servername?: string };
    connect(socket: unknown): Promise<Connected>;
  };
  const target = credentials as unknown as {
    _createSecureConnector(...args: unknown[]): Connector;
  };
  const create = target._createSecureConnector.bind(credentials);
  target._createSecureConnector = (...args: unknown[]) => {
    const connector = create(...args);
    const options = connector.connectionOptions;
    const host = options?.servername;
    if (!options || !host) return connector;
    options.servername = "";
    const connect = connector.connect.bind(connector);
    connector.connect = async (socket) => {
      const connected = await connect(socket);
      connected.socket.servername ||= host;
      return connected;
    };
    return connector;
  };
}

/** Honours `SSL_CERT_FILE` the way Go's system pool does; unreadable means "use defaults". */
function certificateFileFromEnv(): Uint8Array | undefined {
  let path: string | undefined;
  try {
    path = Deno.env.get("SSL_CERT_FILE");
  } catch {
    return undefined; // no --allow-env
  }
  if (!path) return undefined;
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}
