/**
 * Protocol constants, errors and default configuration for Yamux
 * (hashicorp/yamux, protocol version 0). Everything numeric about the wire
 * format lives here so the other modules never spell a magic number.
 *
 * @module
 */

/** The only protocol version this implementation speaks. */
export const PROTO_VERSION = 0;

/** Size of every frame header in bytes. */
export const HEADER_SIZE = 12;

/** Frame types (header byte 1). */
export const FrameType = {
  /** Payload of `length` bytes follows. */
  Data: 0,
  /** `length` is a window increment; no payload. */
  WindowUpdate: 1,
  /** `length` is an opaque value echoed back; stream id 0. */
  Ping: 2,
  /** `length` is a {@link GoAwayCode}; stream id 0. */
  GoAway: 3,
} as const;

/** One of the {@link FrameType} values. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Frame flags (header bytes 2–3), OR-ed together. */
export const Flag = {
  /** Opens a stream (or asks for a ping answer). */
  SYN: 1,
  /** Acknowledges a stream (or answers a ping). */
  ACK: 2,
  /** Half-closes the sender's direction of a stream. */
  FIN: 4,
  /** Aborts a stream in both directions. */
  RST: 8,
} as const;

/** Go Away reasons (carried in the `length` field). */
export const GoAwayCode = {
  /** The sender accepts no new streams; existing ones continue. */
  Normal: 0,
  /** The sender saw a protocol violation and is closing. */
  ProtocolError: 1,
  /** The sender hit an internal error and is closing. */
  InternalError: 2,
} as const;

/** One of the {@link GoAwayCode} values. */
export type GoAwayCode = typeof GoAwayCode[keyof typeof GoAwayCode];

/** Every stream starts with this receive window in both directions (256 KiB). */
export const INITIAL_STREAM_WINDOW = 256 * 1024;

/** Largest value a 32-bit window or length field can hold. */
export const MAX_UINT32 = 0xffff_ffff;

/** Largest Data payload we put into one frame; bigger writes are split. */
export const MAX_DATA_FRAME = 128 * 1024;

/** Session configuration; every field has a default in {@link DEFAULT_CONFIG}. */
export interface YamuxConfig {
  /** Incoming streams waiting for `accept()`; beyond this they are reset. Also caps our un-ACKed opens. */
  acceptBacklog: number;
  /** Send a ping every `keepAliveIntervalMs` and close the session if it fails. */
  enableKeepAlive: boolean;
  /** Interval between keepalive pings. */
  keepAliveIntervalMs: number;
  /** How long a ping may wait for its answer (and a graceful close for its flush). */
  connectionWriteTimeoutMs: number;
  /** Largest receive window a stream grows to (≥ 256 KiB). Gitaly's server uses 16 MiB. */
  maxStreamWindowSize: number;
  /** Close the session if an opened stream is not ACKed in time; 0 disables. */
  streamOpenTimeoutMs: number;
  /** Reset a stream we half-closed if the peer's FIN does not come in time; 0 disables. */
  streamCloseTimeoutMs: number;
  /** Bytes of encoded frames queued for the connection before stream writers wait. */
  sendBufferSize: number;
  /** Receives diagnostic messages (defaults to silence). */
  logger: (message: string) => void;
}

/** hashicorp/yamux's defaults, except that keepalive is off unless asked for. */
export const DEFAULT_CONFIG: Readonly<YamuxConfig> = Object.freeze({
  acceptBacklog: 256,
  enableKeepAlive: false,
  keepAliveIntervalMs: 30_000,
  connectionWriteTimeoutMs: 10_000,
  maxStreamWindowSize: INITIAL_STREAM_WINDOW,
  streamOpenTimeoutMs: 75_000,
  streamCloseTimeoutMs: 5 * 60_000,
  sendBufferSize: 1024 * 1024,
  logger: () => {},
});

/** Merges a partial configuration with the defaults and validates it. */
export function resolveConfig(partial: Partial<YamuxConfig> = {}): YamuxConfig {
  const config = { ...DEFAULT_CONFIG, ...partial };
  if (!(config.acceptBacklog >= 1)) throw new RangeError("acceptBacklog must be positive");
  if (
    !(config.maxStreamWindowSize >= INITIAL_STREAM_WINDOW) ||
    config.maxStreamWindowSize > MAX_UINT32
  ) {
    throw new RangeError(`maxStreamWindowSize must be in [${INITIAL_STREAM_WINDOW}, 2^32)`);
  }
  if (config.enableKeepAlive && !(config.keepAliveIntervalMs > 0)) {
    throw new RangeError("keepAliveIntervalMs must be positive");
  }
  if (!(config.sendBufferSize >= HEADER_SIZE + MAX_DATA_FRAME)) {
    throw new RangeError("sendBufferSize is too small for one data frame");
  }
  return config;
}

/** Base class of every error this module raises. */
export class YamuxError extends Error {
  /** Creates an error with the given message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The peer violated the protocol; the session ends with Go Away protocol error. */
export class YamuxProtocolError extends YamuxError {}

/** The session is closed (locally, by the peer, or because the connection died). */
export class SessionClosedError extends YamuxError {}

/** The stream was reset (by either side, or because the accept backlog was full). */
export class StreamResetError extends YamuxError {}

/** The peer sent Go Away: it accepts no new streams. */
export class RemoteGoAwayError extends YamuxError {}

/** A ping or keepalive did not get its answer in time. */
export class YamuxTimeoutError extends YamuxError {}
