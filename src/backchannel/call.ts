/**
 * Calling the client back: unary gRPC calls the server makes to a
 * multiplexed client over its own Yamux session (as Gitaly's backchannel
 * `ClientConn` does, e.g. Praefect's `RefTransaction` votes). The first
 * call opens one stream to the client and runs an HTTP/2 client
 * connection inside it (the client serves server-opened streams that
 * carry no known magic as gRPC); later calls share it until it closes.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import { toDuplex } from "../yamux/duplex.ts";
import type { BackchannelPeer } from "./peer.ts";

/** gRPC's status names, by code, as Go prints them. */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** A call back to the client failed with a gRPC status (or could not be made: Unavailable). */
export class PeerCallError extends Error {
  /** The gRPC status code. */
  readonly code: number;
  /** The status message as the client sent it. */
  readonly details: string;

  /** Worded as grpc-go words a status error: `rpc error: code = X desc = Y`. */
  constructor(code: number, details: string, options?: ErrorOptions) {
    super(`rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${details}`, options);
    this.name = "PeerCallError";
    this.code = code;
    this.details = details;
  }
}

/** Options of {@link callPeer}. */
export interface PeerCallOptions {
  /** Aborting cancels the call (status Canceled). */
  signal?: AbortSignal;
  /** The call fails with DeadlineExceeded after this many ms. */
  timeoutMs?: number;
  /** Request metadata (ASCII values). */
  metadata?: Record<string, string>;
}

const connections = new WeakMap<BackchannelPeer, http2.ClientHttp2Session>();

/** The HTTP/2 connection to `peer`'s gRPC server, opened on first use. */
async function connectionTo(peer: BackchannelPeer): Promise<http2.ClientHttp2Session> {
  const existing = connections.get(peer);
  if (existing && !existing.closed && !existing.destroyed) return existing;
  if (peer.closed) throw new PeerCallError(14, "backchannel: connection closed");
  let stream;
  try {
    stream = await peer.openStream();
  } catch (error) {
    throw new PeerCallError(14, `backchannel: open stream: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const duplex = toDuplex(stream, {
    localAddress: peer.session.localAddress,
    remoteAddress: peer.session.remoteAddress,
  });
  const session = http2.connect("http://backchannel", { createConnection: () => duplex });
  session.on("error", () => {}); // calls in flight see the failure themselves
  session.once("close", () => {
    if (connections.get(peer) === session) connections.delete(peer);
    duplex.destroy();
  });
  connections.set(peer, session);
  return session;
}

/**
 * Makes one unary call `path` (e.g. `/gitaly.RefTransaction/VoteTransaction`)
 * to `peer` with the encoded request; resolves with the encoded response.
 * Rejects with {@link PeerCallError}.
 */
export async function callPeer(
  peer: BackchannelPeer,
  path: string,
  request: Uint8Array,
  options: PeerCallOptions = {},
): Promise<Uint8Array> {
  options.signal?.throwIfAborted();
  const session = await connectionTo(peer);
  const headers: http2.OutgoingHttpHeaders = {
    ":method": "POST",
    ":path": path,
    ":scheme": "http",
    ":authority": "backchannel",
    "content-type": "application/grpc",
    te: "trailers",
    ...options.metadata,
  };
  if (options.timeoutMs !== undefined) {
    headers["grpc-timeout"] = `${Math.max(1, Math.ceil(options.timeoutMs))}m`;
  }
  return await new Promise<Uint8Array>((resolve, reject) => {
    let settled = false;
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let message = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error?: PeerCallError, body?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error) {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(error);
      } else resolve(body!);
    };
    const onAbort = () => finish(new PeerCallError(1, "context canceled"));
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (error) {
      reject(new PeerCallError(14, `backchannel: ${(error as Error).message}`, { cause: error }));
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(
        () => finish(new PeerCallError(4, "context deadline exceeded")),
        options.timeoutMs,
      );
    }
    const readStatus = (fields: http2.IncomingHttpHeaders) => {
      const value = fields["grpc-status"];
      if (value !== undefined) status = Number(value);
      const text = fields["grpc-message"];
      if (typeof text === "string") message = decodeGrpcMessage(text);
    };
    stream.on("response", readStatus);
    stream.on("trailers", readStatus);
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", (error: Error) => {
      finish(new PeerCallError(14, `backchannel: ${error.message}`, { cause: error }));
    });
    stream.on("close", () => {
      if (status === undefined) {
        finish(new PeerCallError(14, "backchannel: stream closed without a status"));
      } else if (status !== 0) finish(new PeerCallError(status, message));
      else {
        const body = Buffer.concat(chunks);
        const decoded = firstMessage(body);
        if (decoded === undefined) finish(new PeerCallError(13, "malformed response message"));
        else finish(undefined, decoded);
      }
    });
    const frame = Buffer.alloc(5 + request.byteLength);
    frame.writeUInt32BE(request.byteLength, 1);
    frame.set(request, 5);
    stream.end(frame);
  });
}

/** The first length-prefixed (uncompressed) message of a gRPC body. */
function firstMessage(body: Buffer): Uint8Array | undefined {
  if (body.byteLength < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  if (body.byteLength < 5 + length) return undefined;
  return new Uint8Array(body.buffer, body.byteOffset + 5, length);
}

/** `grpc-message` is percent-encoded. */
function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
