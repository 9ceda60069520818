/**
 * Client calls that move their bytes over a sidechannel: dialing with the
 * backchannel handshake (so the server can open sidechannels back), and
 * `SSHUploadPackWithSidechannel` as gitaly-ssh and Gitaly's Go client run
 * it. The building blocks live in `src/backchannel` and `src/sidechannel`.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { BackchannelCredentials } from "../backchannel/client.ts";
import type { PackfileNegotiationStatistics } from "../proto/types.ts";
import { proxyPktLine } from "../sidechannel/proxy.ts";
import { SidechannelRegistry } from "../sidechannel/registry.ts";
import type { YamuxConfig } from "../yamux/const.ts";
import { parseAddress } from "./address.ts";
import { dial, type DialOptions, transportCredentials } from "./dial.ts";
import { codec } from "./messages.ts";
import type { StreamIO } from "./ssh.ts";

/** Options of {@link dialSidechannel}. */
export interface SidechannelDialOptions extends DialOptions {
  /** Yamux settings of the client sessions (Gitaly: hashicorp defaults, 1 s close timeout). */
  yamux?: Partial<YamuxConfig>;
  /** Serves gRPC calls the server makes back over the connection (none by default). */
  server?: grpc.Server;
}

/**
 * A client for `address` whose connections speak the backchannel
 * protocol, with `registry` answering the sidechannels the server opens.
 * Everything else is as for `dial` (token, metadata, TLS roots, …).
 */
export function dialSidechannel(
  address: string,
  registry: SidechannelRegistry,
  options: SidechannelDialOptions = {},
): grpc.Client {
  const base = options.credentials ??
    transportCredentials(parseAddress(address), options.caCertificates);
  const credentials = new BackchannelCredentials(base, {
    handlers: registry.handlers,
    server: options.server,
    // A client that hung up must not keep a half-closed stream for minutes.
    yamux: { streamCloseTimeoutMs: 1000, ...options.yamux },
  });
  return dial(address, { ...options, credentials });
}

/** What {@link sshUploadPackWithSidechannel} returns. */
export interface UploadPackResult {
  /** Always 0 on success (a failed upload-pack is an RPC error). */
  exitCode: number;
  /** The server's view of the request. */
  packfileNegotiationStatistics?: PackfileNegotiationStatistics | null;
}

const SSH_SIDECHANNEL_PATH = "/gitaly.SSHService/SSHUploadPackWithSidechannel";
const SSH_SIDECHANNEL_TYPES = [
  "SSHUploadPackWithSidechannelRequest",
  "SSHUploadPackWithSidechannelResponse",
];

/**
 * Runs `git upload-pack` on the server for a local git (gitaly-ssh):
 * `io.stdin` is git's request, the response's side-band is split into
 * `io.stdout` and `io.stderr`. `client` must come from
 * {@link dialSidechannel} with the same `registry`. Resolves when both the
 * RPC and the sidechannel are done; rejects with the RPC's error, or the
 * sidechannel's when the RPC succeeded.
 */
export async function sshUploadPackWithSidechannel(
  client: grpc.Client,
  registry: SidechannelRegistry,
  request: Record<string, unknown>,
  io: StreamIO,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<UploadPackResult> {
  const response = await callWithSidechannel(
    client,
    registry,
    SSH_SIDECHANNEL_PATH,
    SSH_SIDECHANNEL_TYPES,
    request,
    metadata,
    (conn) => proxyPktLine(conn, io.stdin, io),
  );
  return { exitCode: 0, packfileNegotiationStatistics: response.packfile_negotiation_statistics };
}

const POST_SIDECHANNEL_PATH = "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel";
const POST_SIDECHANNEL_TYPES = [
  "PostUploadPackWithSidechannelRequest",
  "PostUploadPackWithSidechannelResponse",
];

/** The request body and where the response body goes, for {@link postUploadPackWithSidechannel}. */
export interface PostBody {
  /** The POST body git sent (pkt-lines, un-gzipped). */
  body: ReadableStream<Uint8Array>;
  /** Receives the response body; resolves once the next chunk may come. */
  response: (chunk: Uint8Array) => Promise<void>;
}

/**
 * Smart HTTP's `POST /git-upload-pack` through Gitaly, as Workhorse does
 * it: the body goes over the sidechannel, `git upload-pack
 * --stateless-rpc`'s output comes back to `io.response`. Resolves with the
 * negotiation statistics once the RPC and the sidechannel are done.
 */
export async function postUploadPackWithSidechannel(
  client: grpc.Client,
  registry: SidechannelRegistry,
  request: Record<string, unknown>,
  io: PostBody,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<PackfileNegotiationStatistics | null | undefined> {
  const response = await callWithSidechannel(
    client,
    registry,
    POST_SIDECHANNEL_PATH,
    POST_SIDECHANNEL_TYPES,
    request,
    metadata,
    async (conn) => {
      const sending = io.body.pipeTo(conn.writable);
      sending.catch(() => {}); // awaited below
      for await (const chunk of conn.readable) await io.response(chunk);
      await sending;
    },
  );
  return response.packfile_negotiation_statistics;
}

/**
 * A unary call whose bulk data travels over a sidechannel served by
 * `onSidechannel`: registers the waiter, sends its id as metadata, and
 * resolves with the response once both the call and the sidechannel are
 * done (the call's error wins when both fail).
 */
async function callWithSidechannel(
  client: grpc.Client,
  registry: SidechannelRegistry,
  path: string,
  types: string[],
  request: Record<string, unknown>,
  metadata: grpc.Metadata,
  onSidechannel: Parameters<SidechannelRegistry["register"]>[0],
): Promise<{ packfile_negotiation_statistics?: PackfileNegotiationStatistics | null }> {
  const waiter = registry.register(onSidechannel);
  const callMetadata = metadata.clone();
  for (const [key, value] of Object.entries(waiter.metadata)) callMetadata.set(key, value);
  let response: { packfile_negotiation_statistics?: PackfileNegotiationStatistics | null };
  try {
    response = await leanUnaryCall(client, path, types, request, callMetadata);
  } catch (error) {
    await waiter.close().catch(() => {});
    throw error;
  }
  await waiter.close();
  return response;
}

/**
 * gitaly-ssh's sidechannel upload-pack in one call: dials `address` with a
 * fresh registry, runs {@link sshUploadPackWithSidechannel} and closes the
 * connection. Resolves to the exit code.
 */
export async function uploadPackOverSidechannel(
  address: string,
  options: SidechannelDialOptions,
  request: Record<string, unknown>,
  io: StreamIO,
): Promise<number> {
  const registry = new SidechannelRegistry();
  const client = dialSidechannel(address, registry, options);
  try {
    return (await sshUploadPackWithSidechannel(client, registry, request, io)).exitCode;
  } finally {
    client.close();
  }
}

/**
 * One unary call by path, with codecs for just the named message types
 * (`messages.ts`), so gitaly-ssh starts without loading the whole proto
 * root; programs that have it loaded use `stream_calls.ts` instead.
 */
export function leanUnaryCall<Res>(
  client: grpc.Client,
  path: string,
  [requestName, responseName]: string[],
  request: Record<string, unknown>,
  metadata: grpc.Metadata,
): Promise<Res> {
  const req = codec(requestName, [requestName, responseName]);
  const res = codec<Res>(responseName, [requestName, responseName]);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      req.serialize,
      res.deserialize,
      request,
      metadata,
      (error, value) => error ? reject(error) : resolve(value as Res),
    );
  });
}
