/**
 * Prometheus metrics under the names, labels and meanings Gitaly 16.7
 * exposes (its go-grpc-prometheus call metrics, auth outcomes, git
 * processes), served over HTTP at `/metrics`.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { authenticationStatus, type AuthOutcome, v2AuthenticationError } from "./auth.ts";

/** gRPC call kinds as go-grpc-prometheus labels them. */
export type GrpcType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** The labels go-grpc-prometheus puts on every per-call metric. */
const CALL_LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;

/** Gitaly's default `[prometheus] grpc_latency_buckets`. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 10, 30, 60, 300, 1500];

/** The labels of Gitaly's per-RPC concurrency-limiting metrics. */
const LIMIT_LABELS = ["system", "grpc_service", "grpc_method"] as const;

/** The server's metrics, in a registry of their own (no process-global state). */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly started = this.#counter(
    "grpc_server_started_total",
    "Total number of RPCs started on the server.",
    [...CALL_LABELS],
  );

  readonly handled = this.#counter(
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or failure.",
    [...CALL_LABELS, "grpc_code"],
  );

  readonly handlingSeconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help:
      "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames: CALL_LABELS,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly messagesReceived = this.#counter(
    "grpc_server_msg_received_total",
    "Total number of RPC stream messages received on the server.",
    [...CALL_LABELS],
  );

  readonly messagesSent = this.#counter(
    "grpc_server_msg_sent_total",
    "Total number of gRPC stream messages sent by the server.",
    [...CALL_LABELS],
  );

  readonly commandRealSeconds = this.#counter(
    "gitaly_command_real_seconds_total",
    "Sum of real time spent by shelling out",
    ["cmd", "subcmd", "grpc_service", "grpc_method", "git_version"],
  );

  /**
   * Counts a finished git process as Gitaly does: `cmd` "git", the
   * subcommand, the RPC it ran for (empty outside calls) and git's version
   * (empty until known).
   */
  countCommand(
    subcommand: string,
    seconds: number,
    call: { service: string; method: string } | undefined,
    gitVersion: string,
  ): void {
    this.commandRealSeconds.inc({
      cmd: "git",
      subcmd: subcommand,
      grpc_service: call?.service ?? "",
      grpc_method: call?.method ?? "",
      git_version: gitVersion,
    }, seconds);
  }

  /** Reports how many git commands run right now; set by whoever owns the runner. */
  countRunningCommands: () => number = () => 0;

  readonly commandsRunning: Gauge = (() => {
    const countRunning = () => this.countRunningCommands();
    return new Gauge({
      name: "gitaly_commands_running",
      help: "Total number of processes currently being executed",
      registers: [this.registry],
      collect() {
        this.set(countRunning());
      },
    });
  })();

  readonly authentications = this.#counter(
    "gitaly_authentications_total",
    "Counts of Gitaly request authentication attempts",
    ["enforced", "status"],
  );

  readonly authenticationErrors = this.#counter(
    "gitaly_authentication_errors_total",
    "Counts of Gitaly request authentication errors",
    ["version", "error"],
  );

  /**
   * Counts one token check as Gitaly does: `outcome` undefined when no
   * token is configured; `enforced` is "false" while transitioning.
   */
  countAuthentication(outcome: AuthOutcome | undefined, transitioning: boolean): void {
    this.authentications.inc({
      enforced: String(!transitioning),
      status: authenticationStatus(outcome, transitioning),
    });
    const error = outcome && v2AuthenticationError(outcome);
    if (error) this.authenticationErrors.inc({ version: "v2", error });
  }

  #counter<T extends string>(name: string, help: string, labelNames: readonly T[]): Counter<T> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

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

  /** How long transactional votes took (Gitaly's name; its gRPC latency buckets). */
  readonly votingDelay = new Histogram({
    name: "gitaly_hook_transaction_voting_delay_seconds",
    help: "Delay between calling out to transaction service and receiving a response",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly housekeepingTasks = this.#counter(
    "gitaly_housekeeping_tasks_total",
    "Total number of housekeeping tasks performed in the repository",
    ["housekeeping_task", "status"],
  );

  readonly housekeepingLatency = new Histogram({
    name: "gitaly_housekeeping_tasks_latency",
    help: "Latency of the housekeeping tasks performed",
    labelNames: ["housekeeping_task"],
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 10, 30, 60, 300, 1500],
    registers: [this.registry],
  });

  readonly housekeepingPrunedFiles = this.#counter(
    "gitaly_housekeeping_pruned_files_total",
    "Total number of files pruned",
    ["filetype"],
  );

  /** Feeds the housekeeping metrics (the manager's observer). */
  readonly housekeeping = {
    task: (task: string, status: string) =>
      this.housekeepingTasks.inc({ housekeeping_task: task, status }),
    latency: (stage: string, seconds: number) =>
      this.housekeepingLatency.observe({ housekeeping_task: stage }, seconds),
    pruned: (filetype: string, count: number) =>
      this.housekeepingPrunedFiles.inc({ filetype }, count),
  };
  readonly concurrencyInProgress = this.#gauge(
    "gitaly_concurrency_limiting_in_progress",
    "Gauge of number of concurrent in-progress calls",
    LIMIT_LABELS,
  );

  readonly concurrencyQueued = this.#gauge(
    "gitaly_concurrency_limiting_queued",
    "Gauge of number of queued calls",
    LIMIT_LABELS,
  );

  readonly concurrencyAcquiringSeconds = this.#latency(
    "gitaly_concurrency_limiting_acquiring_seconds",
    LIMIT_LABELS,
  );

  readonly concurrencyCurrentLimit = this.#gauge(
    "gitaly_concurrency_limiting_current_limit",
    "The current limit value of an adaptive concurrency limit",
    ["limit"],
  );

  readonly requestsDropped = this.#counter(
    "gitaly_requests_dropped_total",
    "Number of requests dropped from the queue",
    [...LIMIT_LABELS, "reason"],
  );

  readonly packObjectsInProgress = this.#gauge(
    "gitaly_pack_objects_in_progress",
    "Gauge of number of concurrent in-progress calls",
    [],
  );

  readonly packObjectsQueued = this.#gauge(
    "gitaly_pack_objects_queued",
    "Gauge of number of queued calls",
    [],
  );

  readonly packObjectsAcquiringSeconds = this.#latency("gitaly_pack_objects_acquiring_seconds", []);

  readonly packObjectsDropped = this.#counter(
    "gitaly_pack_objects_dropped_total",
    "Number of requests dropped from the queue",
    ["reason"],
  );

  #gauge<T extends string>(name: string, help: string, labelNames: readonly T[]): Gauge<T> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** A limiter's wait histogram, as Gitaly's: its help text, the latency buckets. */
  #latency<T extends string>(name: string, labelNames: readonly T[]): Histogram<T> {
    return new Histogram({
      name,
      help: "Histogram of time calls are rate limited (in seconds)",
      labelNames,
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Run before each scrape, to set gauges read from elsewhere. */
  readonly beforeScrape: (() => void)[] = [];

  /** The exposition text for a scrape. */
  text(): Promise<string> {
    for (const update of this.beforeScrape) update();
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
