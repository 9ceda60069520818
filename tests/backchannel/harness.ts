/**
 * An in-process GitalyServer (real listeners, real interceptor chain) with
 * a raw-bytes test service whose handlers the test supplies, and clients
 * for it: plain, or multiplexed through the backchannel.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  type BackchannelClientOptions,
  BackchannelCredentials,
} from "../../src/backchannel/client.ts";
import type { Config } from "../../src/server/config.ts";
import { Logger } from "../../src/server/logger.ts";
import { ServerMetrics } from "../../src/server/metrics.ts";
import type { Handler } from "../../src/server/rpc.ts";
import { GitalyServer } from "../../src/server/server.ts";
import { signV2Token } from "../../src/server/auth.ts";

/** The test service's name. */
export const TEST_SERVICE = "test.Harness";

const identity = (value: Buffer) => value;

/** Unary methods of the test service (requests and responses are raw bytes). */
export const TEST_METHODS = ["Call", "Other"] as const;

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Handlers of the test service's methods (all unary, raw bytes). */
  handlers: Partial<Record<(typeof TEST_METHODS)[number], Handler<Buffer, Buffer>>>;
  /** Require this token. */
  token?: string;
  /** Also listen with TLS using these files. */
  tls?: { certificatePath: string; keyPath: string };
}

/** A running in-process server. */
export interface Harness {
  server: GitalyServer;
  /** `unix:/…/gitaly.socket` */
  unixAddress: string;
  /** `127.0.0.1:port` (grpc-js target) */
  tcpTarget: string;
  /** `127.0.0.1:port` for TLS, when configured. */
  tlsTarget?: string;
  close(): Promise<void>;
}

/** Starts a server on a Unix socket and TCP (and TLS when asked) serving the test service. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "backchannel-" });
  const config: Config = {
    socketPath: join(dir, "gitaly.socket"),
    listenAddr: "127.0.0.1:0",
    tlsListenAddr: options.tls ? "127.0.0.1:0" : undefined,
    tls: options.tls,
    storages: [],
    auth: { token: options.token ?? "", transitioning: false },
    git: { binPath: "git", config: [], catfileCacheSize: 0, maxProcesses: 512 },
    logging: { format: "json", level: "error" },
    gracefulRestartTimeoutMs: 1000,
    hooks: {},
    dailyMaintenance: { disabled: true, startHour: 0, startMinute: 0, durationMs: 0, storages: [] },
    limits: { concurrency: [], rateLimiting: [] },
  };
  const methods = TEST_METHODS.map((name) => ({
    service: TEST_SERVICE,
    name,
    path: `/${TEST_SERVICE}/${name}`,
    requestStream: false,
    responseStream: false,
  }));
  const definition: grpc.ServiceDefinition = Object.fromEntries(methods.map((m) => [m.name, {
    path: m.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  }]));
  const server = new GitalyServer({
    config,
    logger: new Logger("json", "error", () => {}),
    metrics: new ServerMetrics(),
    services: [{
      definition,
      methods,
      impl: { service: TEST_SERVICE, handlers: options.handlers as Record<string, Handler> },
    }],
  });
  const addresses = await server.start();
  const target = (scheme: string) =>
    addresses.find((a) => a.startsWith(`${scheme}://`))?.slice(scheme.length + 3);
  return {
    server,
    unixAddress: `unix:${config.socketPath}`,
    tcpTarget: target("tcp")!,
    tlsTarget: target("tls"),
    close: async () => {
      await server.stop(100);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Options of {@link TestCaller}. */
export interface CallerOptions {
  /** Connect through the backchannel with these options. */
  backchannel?: BackchannelClientOptions;
  /** Base transport credentials (TLS); default insecure. */
  base?: grpc.ChannelCredentials;
  /** grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** A grpc-js client for the test service. */
export class TestCaller {
  readonly client: grpc.Client;

  /** Connects to `target`, multiplexed when `options.backchannel` is given. */
  constructor(target: string, options: CallerOptions = {}) {
    const base = options.base ?? grpc.credentials.createInsecure();
    const credentials = options.backchannel
      ? new BackchannelCredentials(base, options.backchannel)
      : base;
    this.client = new grpc.Client(target, credentials, options.channelOptions ?? {});
  }

  /** Calls `method` with `request`; `metadata` and a token are added when given. */
  call(
    method: (typeof TEST_METHODS)[number],
    request: Uint8Array | string,
    options: { metadata?: Record<string, string | string[]>; token?: string } = {},
  ): Promise<Buffer> {
    const metadata = new grpc.Metadata();
    for (const [key, values] of Object.entries(options.metadata ?? {})) {
      for (const value of [values].flat()) metadata.add(key, value);
    }
    if (options.token) metadata.set("authorization", `Bearer ${signV2Token(options.token)}`);
    const body = typeof request === "string" ? Buffer.from(request) : Buffer.from(request);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/${TEST_SERVICE}/${method}`,
        identity,
        identity,
        body,
        metadata,
        (error, value) => error ? reject(error) : resolve(value as Buffer),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** The gRPC error a promise rejected with (throws when it resolved). */
export async function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error("call succeeded, expected an error");
}
