/**
 * The backchannel: a client connection that starts with the 11 bytes
 * `backchannel` and then carries a Yamux session, so that the server can
 * open streams back to the client (the client's first stream is its
 * ordinary HTTP/2 gRPC connection).
 *
 * - Server: {@link serveBackchannel} takes a connection after its magic,
 *   injects the client's gRPC stream into the server and returns the
 *   {@link BackchannelPeer}; handlers find it with {@link peerOfSocket}
 *   (the adapter exposes it as `CallContext.backchannel`), or by id with
 *   {@link peerById}; {@link callPeer} makes a unary gRPC call back to it.
 * - Client: {@link BackchannelCredentials} wraps channel credentials so
 *   every connection grpc-js makes speaks the protocol and dispatches the
 *   streams the server opens (by magic, e.g. `sidechannel`; HTTP/2 goes to
 *   a grpc-js server of the caller's).
 *
 * @module
 */
export {
  BACKCHANNEL_MAGIC,
  type BackchannelClientOptions,
  type BackchannelConnection,
  BackchannelCredentials,
  connectBackchannel,
  type IncomingStreamHandler,
  StreamDispatcher,
} from "./client.ts";
export { callPeer, PeerCallError, type PeerCallOptions } from "./call.ts";
export { attachPeer, BACKCHANNEL_PEER, BackchannelPeer, peerById, peerOfSocket } from "./peer.ts";
export { PrefixReader, UnexpectedEofError } from "./prefix_reader.ts";
export {
  type BackchannelServerOptions,
  serveBackchannel,
  SERVER_MAX_STREAM_WINDOW,
} from "./server.ts";
