/**
 * Prometheus metrics under the names Gitaly's Go gRPC middleware uses, plus
 * git spawn counts and auth outcomes, served over HTTP at `/metrics`.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** gRPC call kinds as go-grpc-prometheus labels them. */
export type GrpcType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** The server's metrics, in a registry of their own (no process-global state). */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    registers: [this.registry],
  });

  readonly handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registers: [this.registry],
  });

  readonly handlingSeconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from receiving an RPC to its completion, in seconds.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly commandsSpawned = new Counter({
    name: "gitaly_commands_spawned_total",
    help: "Git commands spawned, by subcommand.",
    labelNames: ["cmd"],
    registers: [this.registry],
  });

  /** Reports how many git commands run right now; set by whoever owns the runner. */
  countRunningCommands: () => number = () => 0;

  readonly commandsRunning: Gauge = (() => {
    const countRunning = () => this.countRunningCommands();
    return new Gauge({
      name: "gitaly_commands_running",
      help: "Git commands currently running.",
      registers: [this.registry],
      collect() {
        this.set(countRunning());
      },
    });
  })();

  readonly authentications = new Counter({
    name: "gitaly_authentications_total",
    help: "Token checks, by whether auth is enforced and the outcome.",
    labelNames: ["enforced", "status"],
    registers: [this.registry],
  });

  /** Records one finished call. */
  observeCall(
    type: GrpcType,
    service: string,
    method: string,
    code: string,
    seconds: number,
  ): void {
    this.handled.inc({
      grpc_type: type,
      grpc_service: service,
      grpc_method: method,
      grpc_code: code,
    });
    this.handlingSeconds.observe(
      { grpc_type: type, grpc_service: service, grpc_method: method },
      seconds,
    );
  }

  readonly spawnWaitingLength = new Gauge({
    name: "gitaly_spawn_token_waiting_length",
    help: "The current length of the queue waiting for spawn tokens",
    registers: [this.registry],
  });

  readonly spawnTimeouts = new Counter({
    name: "gitaly_spawn_timeouts_total",
    help: "Number of process spawn timeouts",
    registers: [this.registry],
  });

  readonly spawnWaitSeconds = new Histogram({
    name: "gitaly_spawn_token_wait_seconds",
    help: "Time spent waiting for a spawn token, by callers that had to wait.",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });

  readonly catfileCache = new Counter({
    name: "gitaly_catfile_cache_total",
    help: "Counter of catfile cache hit/miss",
    labelNames: ["type"],
    registers: [this.registry],
  });

  /** The exposition text for a scrape. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves `GET /metrics` on `addr` (host:port) until the returned server is shut down. */
export function serveMetrics(addr: string, metrics: ServerMetrics): Deno.HttpServer<Deno.NetAddr> {
  const { hostname, port } = splitHostPort(addr);
  return Deno.serve({ hostname, port, onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("not found\n", { status: 404 });
    }
    return new Response(await metrics.text(), {
      headers: { "content-type": metrics.registry.contentType },
    });
  });
}

/** Splits `host:port` or `[v6]:port`; an empty host means all interfaces. */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { hostname: host === "" ? "0.0.0.0" : host, port: Number(addr.slice(i + 1)) };
}
