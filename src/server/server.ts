/**
 * The gRPC server: one grpc-js server fed by our own listeners, every
 * service bound through the same interceptor chain, and a graceful stop.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type { Duplex } from "node:stream";
import { attachPeer, peerOfSocket } from "../backchannel/peer.ts";
import { serveBackchannel } from "../backchannel/server.ts";
import { bindService, CallTracker, type MethodShape } from "./adapter.ts";
import { CallLimits } from "./call_limits.ts";
import { GoawayFilteredSocket } from "../http2/goaway_filter.ts";
import type { Config } from "./config.ts";
import {
  type BoundListener,
  type ConnectionSink,
  listenTcp,
  listenTls,
  listenUnix,
} from "./listeners.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { ServiceImplementation } from "./rpc.ts";

/** A service to serve: its grpc-js definition, its methods and our handlers. */
export interface ServiceRegistration {
  definition: grpc.ServiceDefinition;
  methods: MethodShape[];
  impl?: ServiceImplementation;
}

/** Options for {@link GitalyServer}. */
export interface GitalyServerOptions {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  services: ServiceRegistration[];
  /** Registers services that bypass our interceptors (e.g. reflection). */
  extraServices?: (server: grpc.Server) => void;
  /**
   * Handles `backchannel` connections. Default: {@link serveBackchannel}
   * (a Yamux session whose first stream is served like any connection);
   * `false` closes them.
   */
  backchannel?: BackchannelHandler | false;
  /** A Unix socket for the server's own hooks, besides the configured listeners. */
  internalSocketPath?: string;
}

/** Takes a connection after its `backchannel` magic; `inject` serves a duplex as gRPC. */
export type BackchannelHandler = (socket: Duplex, inject: (duplex: Duplex) => void) => void;

/** grpc-js settings: big flow-control windows for pack data; accept 20 s keepalive pings. */
const GRPC_OPTIONS: grpc.ServerOptions = {
  "grpc-node.flow_control_window": 16 * 1024 * 1024,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  "grpc.max_receive_message_length": 64 * 1024 * 1024,
};

/** A running (or startable) Gitaly-compatible server. */
export class GitalyServer {
  readonly grpc = new grpc.Server(GRPC_OPTIONS);
  readonly calls = new CallTracker();
  readonly #listeners: BoundListener[] = [];
  readonly #options: GitalyServerOptions;
  #injector?: ReturnType<grpc.Server["createConnectionInjector"]>;

  constructor(options: GitalyServerOptions) {
    this.#options = options;
    const deps = {
      auth: options.config.auth,
      logger: options.logger,
      metrics: options.metrics,
      calls: this.calls,
      limits: new CallLimits(options.config.limits, options.metrics),
    };
    for (const service of options.services) {
      this.grpc.addService(service.definition, bindService(service.methods, service.impl, deps));
    }
    options.extraServices?.(this.grpc);
  }

  /** Opens every configured listener; returns their addresses. */
  async start(): Promise<string[]> {
    this.#injector = this.grpc.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    // Every connection goes through the GOAWAY filter (see src/http2/goaway_filter.ts).
    const inject = (socket: Duplex) =>
      this.#injector!.injectConnection(filterGoaway(socket) as unknown as Duplex);
    const backchannel = this.#backchannelHandler();
    const sink: ConnectionSink = {
      grpc: inject,
      backchannel: backchannel ? (s) => backchannel(s, inject) : undefined,
    };
    const { socketPath, listenAddr, tlsListenAddr, tls } = this.#options.config;
    if (socketPath) this.#listeners.push(await listenUnix(socketPath, sink));
    const internal = this.#options.internalSocketPath;
    if (internal) this.#listeners.push(await listenUnix(internal, sink));
    if (listenAddr) this.#listeners.push(await listenTcp(listenAddr, sink));
    if (tlsListenAddr && tls) {
      this.#listeners.push(await listenTls(tlsListenAddr, tls.certificatePath, tls.keyPath, sink));
    }
    return this.#listeners.map((l) => l.address);
  }

  #backchannelHandler(): BackchannelHandler | undefined {
    const option = this.#options.backchannel;
    if (option === false) return undefined;
    if (option) return option;
    const logger = this.#options.logger;
    return (socket, inject) =>
      serveBackchannel(socket, inject, { log: (message) => logger.debug(message) });
  }

  /**
   * Stops accepting connections, lets calls in flight finish for up to
   * `graceMs`, then aborts the rest and closes every connection.
   */
  async stop(graceMs: number): Promise<{ aborted: number }> {
    await Promise.all(this.#listeners.splice(0).map((l) => l.close()));
    const drained = await settlesWithin(this.calls.idle(), graceMs);
    const aborted = drained ? 0 : this.calls.size;
    if (!drained) this.calls.abortAll("server is shutting down");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpc.forceShutdown();
        resolve();
      }, drained ? 1000 : 100);
      this.grpc.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#injector?.destroy();
    return { aborted };
  }
}

/**
 * Wraps a connection in the GOAWAY filter; the wrapper keeps the
 * backchannel peer the connection carries, since handlers find it through
 * the socket grpc-js holds.
 */
function filterGoaway(socket: Duplex): GoawayFilteredSocket {
  const filtered = new GoawayFilteredSocket(socket);
  const peer = peerOfSocket(socket);
  if (peer) attachPeer(filtered, peer);
  return filtered;
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
