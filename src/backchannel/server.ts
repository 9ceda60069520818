/**
 * Server side of the backchannel handshake: after
 * the `backchannel` magic the connection carries a Yamux session in which
 * we are the server; the client's first stream is its ordinary HTTP/2 gRPC
 * connection and goes to the same grpc-js server as plain connections.
 *
 * @module
 */
import type { Duplex } from "node:stream";
import type { YamuxConfig } from "../yamux/const.ts";
import { toDuplex } from "../yamux/duplex.ts";
import { YamuxSession } from "../yamux/session.ts";
import type { YamuxStream } from "../yamux/stream.ts";
import { fromNodeSocket } from "../yamux/transport.ts";
import { attachPeer, BackchannelPeer } from "./peer.ts";

/** Gitaly's server lets stream windows grow to 16 MiB. */
export const SERVER_MAX_STREAM_WINDOW = 16 * 1024 * 1024;

/** How long a new session may take to open its gRPC stream (gRPC's handshake timeout). */
export const FIRST_STREAM_TIMEOUT_MS = 120_000;

/** Options of {@link serveBackchannel}. */
export interface BackchannelServerOptions {
  /** Yamux settings on top of ours (16 MiB windows, no Yamux keepalive: gRPC pings). */
  yamux?: Partial<YamuxConfig>;
  /** Close the session when the client opens no stream within this many ms. */
  firstStreamTimeoutMs?: number;
  /** Told about each peer once its gRPC stream is served (e.g. to track peers). */
  onPeer?: (peer: BackchannelPeer) => void;
  /** Receives diagnostics. */
  log?: (message: string) => void;
}

/**
 * Runs the server end of a multiplexed connection whose magic was already
 * read: starts the Yamux session, waits for the client's first stream and
 * hands its duplex to `inject` (the grpc-js connection injector). The
 * duplex carries the returned peer (see `peerOfSocket`), which lives as
 * long as the connection. Further streams the client opens are refused.
 */
export function serveBackchannel(
  socket: Duplex,
  inject: (duplex: Duplex) => void,
  options: BackchannelServerOptions = {},
): BackchannelPeer {
  const session = YamuxSession.server(fromNodeSocket(socket), {
    maxStreamWindowSize: SERVER_MAX_STREAM_WINDOW,
    enableKeepAlive: false,
    logger: options.log ?? (() => {}),
    ...options.yamux,
  });
  const peer = new BackchannelPeer(session);
  acceptGrpcStream(peer, inject, options).catch((error) => {
    options.log?.(`backchannel: ${error instanceof Error ? error.message : error}`);
    session.close().catch(() => {});
  });
  return peer;
}

async function acceptGrpcStream(
  peer: BackchannelPeer,
  inject: (duplex: Duplex) => void,
  options: BackchannelServerOptions,
): Promise<void> {
  const session = peer.session;
  const stream = await withTimeout(
    session.accept(),
    options.firstStreamTimeoutMs ?? FIRST_STREAM_TIMEOUT_MS,
    "client opened no stream in time",
  );
  const duplex = toDuplex(stream, {
    localAddress: session.localAddress,
    remoteAddress: session.remoteAddress,
  });
  attachPeer(duplex, peer);
  // grpc-js destroys the duplex when it is done with the connection: that ends the session.
  duplex.once("close", () => session.close().catch(() => {}));
  options.onPeer?.(peer);
  inject(duplex);
  refuseFurtherStreams(session);
}

/** The client has no business opening more streams; reset any it opens. */
function refuseFurtherStreams(session: YamuxSession): void {
  (async () => {
    for await (const stream of session) (stream as YamuxStream).reset();
  })().catch(() => {});
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
