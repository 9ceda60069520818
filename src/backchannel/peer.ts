/**
 * The server's handle on one multiplexed client connection: the Yamux
 * session behind it, so a handler can open streams back to the client
 * that made its call (sidechannels). Gitaly hides the session in the
 * peer's auth info; we hang the handle on the stream duplex grpc-js runs
 * HTTP/2 over, where the call's HTTP/2 session can reach it.
 *
 * @module
 */
import type { YamuxSession } from "../yamux/session.ts";
import type { YamuxStream } from "../yamux/stream.ts";

/** Property key under which a connection's duplex carries its {@link BackchannelPeer}. */
export const BACKCHANNEL_PEER: unique symbol = Symbol.for("deno-gitaly.backchannel-peer");

let lastPeerId = 0;
/** Every peer whose connection is open, by id (Gitaly's backchannel registry). */
const livePeers = new Map<number, BackchannelPeer>();

/** One multiplexed client connection, as seen by the server. */
export class BackchannelPeer {
  /** Unique per server process and increasing, like Gitaly's backchannel ids. */
  readonly id: number;
  /** The server side of the client's Yamux session. */
  readonly session: YamuxSession;

  /** Wraps `session`; the server creates one per `backchannel` connection. */
  constructor(session: YamuxSession) {
    this.id = ++lastPeerId;
    this.session = session;
    livePeers.set(this.id, this);
    session.closed.then(() => livePeers.delete(this.id));
  }

  /** True once the connection has gone. */
  get closed(): boolean {
    return this.session.isClosed;
  }

  /** Opens a new stream to the client (even id). */
  openStream(): Promise<YamuxStream> {
    return this.session.open();
  }

  /** Closes the session and with it the connection. */
  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * The open multiplexed connection with backchannel id `id`, if there is
 * one: how a hook, which calls in on another connection, reaches the
 * client whose call it runs for (the id travels in the hooks payload).
 */
export function peerById(id: number): BackchannelPeer | undefined {
  const peer = livePeers.get(id);
  return peer && !peer.closed ? peer : undefined;
}

/** Marks `socket` (a stream duplex handed to grpc-js) as belonging to `peer`. */
export function attachPeer(socket: object, peer: BackchannelPeer): void {
  Object.defineProperty(socket, BACKCHANNEL_PEER, { value: peer, enumerable: false });
}

/**
 * The peer a socket-like object belongs to, if it is a multiplexed
 * connection's stream. Property reads work through the proxy Node's (and
 * Deno's) HTTP/2 session puts in front of its socket.
 */
export function peerOfSocket(socket: unknown): BackchannelPeer | undefined {
  if (typeof socket !== "object" || socket === null) return undefined;
  try {
    const peer = (socket as Record<symbol, unknown>)[BACKCHANNEL_PEER];
    return peer instanceof BackchannelPeer ? peer : undefined;
  } catch {
    return undefined; // a destroyed session's socket proxy may throw
  }
}
