/**
 * Client side of the backchannel: after the
 * transport (and TLS) handshake the client writes `backchannel`, starts a
 * Yamux client session and runs its HTTP/2 gRPC connection inside the
 * first stream. Streams the server opens are dispatched on their first 11
 * bytes: a registered magic (`sidechannel`) goes to its handler, anything
 * else is served as gRPC by a grpc-js server of the caller's.
 *
 * Plug it into grpc-js with {@link BackchannelCredentials}.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import type { YamuxConfig } from "../yamux/const.ts";
import { toDuplex } from "../yamux/duplex.ts";
import { YamuxSession } from "../yamux/session.ts";
import type { YamuxStream } from "../yamux/stream.ts";
import { fromNodeSocket } from "../yamux/transport.ts";
import { concat, PrefixReader } from "./prefix_reader.ts";

/** What a multiplexing client writes first. */
export const BACKCHANNEL_MAGIC: Uint8Array = new TextEncoder().encode("backchannel");

/** Every stream the server opens starts with this many bytes of magic. */
export const STREAM_MAGIC_LENGTH = 11;

/** How long a server-opened stream may take to send its magic (gRPC's handshake timeout). */
export const STREAM_MAGIC_TIMEOUT_MS = 120_000;

/**
 * Takes over a server-opened stream whose magic has been read. `reader`
 * holds the stream's readable, positioned just after the magic.
 */
export type IncomingStreamHandler = (stream: YamuxStream, reader: PrefixReader) => void;

/** Options of {@link BackchannelCredentials} and {@link connectBackchannel}. */
export interface BackchannelClientOptions {
  /**
   * Serves gRPC on server-opened streams that carry HTTP/2 (a server
   * calling back, e.g. Praefect's transaction votes). It needs no `bind`;
   * without it an empty server is used.
   */
  server?: grpc.Server;
  /** Handlers of server-opened streams by their 11-byte ASCII magic (`sidechannel`). */
  handlers?: Record<string, IncomingStreamHandler>;
  /** Yamux settings of the client session (hashicorp defaults otherwise). */
  yamux?: Partial<YamuxConfig>;
  /** Reset a server-opened stream that sends no magic within this many ms. */
  magicTimeoutMs?: number;
  /** Told about every session started (one per connection grpc-js makes). */
  onSession?: (session: YamuxSession) => void;
}

/** A started client session and the stream grpc-js runs over. */
export interface BackchannelConnection {
  session: YamuxSession;
  /** Stream 1 as a socket-like duplex; destroying it closes the session. */
  duplex: Duplex;
}

/**
 * Starts the backchannel on an established connection: writes the magic,
 * starts the Yamux client session, opens the gRPC stream and begins
 * dispatching the streams the server opens.
 */
export async function connectBackchannel(
  socket: Duplex,
  options: BackchannelClientOptions = {},
  dispatcher: StreamDispatcher = new StreamDispatcher(options),
): Promise<BackchannelConnection> {
  await writeToSocket(socket, BACKCHANNEL_MAGIC);
  const session = YamuxSession.client(fromNodeSocket(socket), {
    enableKeepAlive: false, // gRPC's keepalive pings cover the connection
    ...options.yamux,
  });
  const stream = await session.open();
  const duplex = toDuplex(stream, {
    localAddress: session.localAddress,
    remoteAddress: session.remoteAddress,
  });
  duplex.once("close", () => session.close().catch(() => {}));
  options.onSession?.(session);
  dispatcher.serve(session);
  return { session, duplex };
}

/** Sorts server-opened streams by their magic. One dispatcher serves many sessions. */
export class StreamDispatcher {
  readonly #options: BackchannelClientOptions;
  #injector?: ReturnType<grpc.Server["createConnectionInjector"]>;

  /** Uses `options.handlers` and `options.server`. */
  constructor(options: BackchannelClientOptions) {
    this.#options = options;
  }

  /** Dispatches every stream `session` accepts until it closes. */
  serve(session: YamuxSession): void {
    (async () => {
      for await (const stream of session) this.dispatch(stream);
    })().catch(() => {});
  }

  /** Reads `stream`'s magic and hands it on; a stream that sends none in time is reset. */
  dispatch(stream: YamuxStream): void {
    const reader = new PrefixReader(stream.readable);
    const timeoutMs = this.#options.magicTimeoutMs ?? STREAM_MAGIC_TIMEOUT_MS;
    const timer = setTimeout(() => stream.reset(), timeoutMs);
    reader.readExactly(STREAM_MAGIC_LENGTH).then(
      (magic) => {
        clearTimeout(timer);
        this.#route(stream, reader, magic);
      },
      () => {
        clearTimeout(timer);
        stream.reset();
      },
    );
  }

  #route(stream: YamuxStream, reader: PrefixReader, magic: Uint8Array): void {
    const handler = this.#options.handlers?.[new TextDecoder().decode(magic)];
    if (handler) {
      handler(stream, reader);
      return;
    }
    // Not ours: the start of an HTTP/2 connection, replayed to the gRPC server.
    const replay = concat(magic, reader.release());
    const duplex = toDuplex(stream);
    duplex.unshift(Buffer.from(replay.buffer, replay.byteOffset, replay.byteLength));
    this.#grpcInjector().injectConnection(duplex);
  }

  #grpcInjector(): ReturnType<grpc.Server["createConnectionInjector"]> {
    const server = this.#options.server ?? new grpc.Server();
    this.#injector ??= server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    return this.#injector;
  }
}

/**
 * Channel credentials that run every connection grpc-js makes through the
 * backchannel handshake, on top of `base` (insecure by default; with TLS
 * credentials the handshake happens inside the TLS session, as in Gitaly).
 * Pass them as a client's credentials; per-call credentials still compose.
 */
export class BackchannelCredentials extends grpc.ChannelCredentials {
  readonly #base: grpc.ChannelCredentials;
  readonly #options: BackchannelClientOptions;
  readonly #dispatcher: StreamDispatcher;

  /** Wraps `base` (default: insecure); see {@link BackchannelClientOptions}. */
  constructor(
    base: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    options: BackchannelClientOptions = {},
  ) {
    super();
    this.#base = base;
    this.#options = options;
    this.#dispatcher = new StreamDispatcher(options);
  }

  /** @internal Secure exactly when the base credentials are. */
  override _isSecure(): boolean {
    return this.#base._isSecure();
  }

  /** @internal Only equal to itself: each instance has its own handlers. */
  override _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  /** @internal The base connector, then the backchannel handshake. */
  override _createSecureConnector(
    target: Parameters<grpc.ChannelCredentials["_createSecureConnector"]>[0],
    channelOptions: Parameters<grpc.ChannelCredentials["_createSecureConnector"]>[1],
    callCredentials?: grpc.CallCredentials,
  ): ReturnType<grpc.ChannelCredentials["_createSecureConnector"]> {
    const inner = this.#base._createSecureConnector(target, channelOptions, callCredentials);
    const options = this.#options;
    const dispatcher = this.#dispatcher;
    return {
      async connect(socket: Socket) {
        const secured = await inner.connect(socket);
        const { duplex } = await connectBackchannel(secured.socket, options, dispatcher);
        return { socket: duplex as unknown as Socket, secure: secured.secure };
      },
      waitForReady: () => inner.waitForReady(),
      getCallCredentials: () => inner.getCallCredentials(),
      destroy: () => inner.destroy(),
    };
  }
}

function writeToSocket(socket: Duplex, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(Buffer.from(bytes), (error) => error ? reject(error) : resolve());
  });
}
