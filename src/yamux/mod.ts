/**
 * Yamux (hashicorp/yamux protocol version 0): sessions, streams, transports
 * and the Node `Duplex` adapter grpc-js needs. Knows nothing of gRPC itself.
 *
 * ```ts
 * const session = YamuxSession.client(fromDenoConn(conn), { maxStreamWindowSize: 16 << 20 });
 * const stream = await session.open();
 * await stream.readable.pipeTo(somewhere);
 * ```
 *
 * @module
 */

export {
  DEFAULT_CONFIG,
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  PROTO_VERSION,
  RemoteGoAwayError,
  SessionClosedError,
  StreamResetError,
  type YamuxConfig,
  YamuxError,
  YamuxProtocolError,
  YamuxTimeoutError,
} from "./const.ts";
export {
  decodeHeader,
  encodeFrame,
  encodeHeader,
  type FrameHandler,
  type FrameHeader,
  FrameParser,
} from "./frame.ts";
export { type YamuxRole, YamuxSession } from "./session.ts";
export { type StreamStats, YamuxStream } from "./stream.ts";
export {
  fromDenoConn,
  fromNodeSocket,
  memoryPipe,
  type TransportAddress,
  type YamuxTransport,
} from "./transport.ts";
export { toDuplex, YamuxDuplex, type YamuxDuplexOptions } from "./duplex.ts";
