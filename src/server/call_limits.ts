/**
 * The limits of calls, as Gitaly's limit handler applies them: built from
 * the configuration, looked up by full method name, keyed by the request's
 * repository (its relative path, as Gitaly's `grpc.request.repoPath`), with
 * Gitaly's metrics and `limit.*` log fields. Calls without a repository are
 * not limited.
 *
 * @module
 */
import type { LimitsConfig } from "./config.ts";
import {
  AdaptiveLimit,
  type Clock,
  ConcurrencyLimiter,
  type DropReason,
  fixedLimit,
  type LimitMonitor,
  type LogFields,
  RateLimiter,
} from "./limits.ts";
import type { ServerMetrics } from "./metrics.ts";

/** The RPCs whose pack-objects `[pack_objects_limiting]` limits (upload-pack runs it). */
export const UPLOAD_PACK_RPCS: readonly string[] = [
  "/gitaly.SSHService/SSHUploadPack",
  "/gitaly.SSHService/SSHUploadPackWithSidechannel",
  "/gitaly.SmartHTTPService/PostUploadPack",
  "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel",
];

/** Gitaly limits ReplicateRepository to one call per repository unless configured. */
const REPLICATE_REPOSITORY = "/gitaly.RepositoryService/ReplicateRepository";

/** What a limited call offers the limits. */
export interface LimitedCall {
  /** Full method name, e.g. `/gitaly.SSHService/SSHUploadPack`. */
  path: string;
  /** The (first) request. */
  request: unknown;
  /** The `user_id` metadata (the key of `[pack_objects_limiting] key = "user"`). */
  userId?: string;
  signal: AbortSignal;
  /** The call's log fields. */
  logFields: LogFields;
}

/** Every configured limit, ready to apply to calls. */
export class CallLimits {
  readonly #concurrency = new Map<string, ConcurrencyLimiter>();
  readonly #rate = new Map<string, RateLimiter>();
  readonly #packObjects?: { limiter: ConcurrencyLimiter; byUser: boolean };

  constructor(config: LimitsConfig, metrics: ServerMetrics, clock?: Clock) {
    const adaptive: [string, AdaptiveLimit][] = [];
    for (const entry of config.concurrency) {
      const limit = entry.adaptive
        ? new AdaptiveLimit(entry.adaptive, clock)
        : fixedLimit(entry.maxPerRepo);
      if (limit instanceof AdaptiveLimit) adaptive.push([`perRPC${entry.rpc}`, limit]);
      this.#concurrency.set(
        entry.rpc,
        new ConcurrencyLimiter({
          limit,
          maxQueueSize: entry.maxQueueSize,
          maxQueueWaitMs: entry.maxQueueWaitMs,
          monitor: perRpcMonitor(entry.rpc, metrics),
          clock,
        }),
      );
    }
    if (!this.#concurrency.has(REPLICATE_REPOSITORY)) {
      this.#concurrency.set(
        REPLICATE_REPOSITORY,
        new ConcurrencyLimiter({
          limit: fixedLimit(1),
          maxQueueSize: 0,
          maxQueueWaitMs: 0,
          monitor: perRpcMonitor(REPLICATE_REPOSITORY, metrics),
          clock,
        }),
      );
    }
    if (adaptive.length > 0) {
      // Read at scrape time: the limit changes with the clock.
      const gauge = metrics.concurrencyCurrentLimit;
      const update = () => adaptive.forEach(([name, l]) => gauge.set({ limit: name }, l.current()));
      metrics.beforeScrape.push(update);
      update();
    }
    for (const entry of config.rateLimiting) {
      if (entry.intervalMs <= 0 || entry.burst <= 0) continue;
      const { service, method } = splitMethod(entry.rpc);
      const dropped = metrics.requestsDropped.labels({
        system: "gitaly",
        grpc_service: service,
        grpc_method: method,
        reason: "rate",
      });
      dropped.inc(0); // Gitaly shows the series from the start.
      this.#rate.set(
        entry.rpc,
        new RateLimiter(entry.intervalMs, entry.burst, { clock, onDrop: () => dropped.inc() }),
      );
    }
    const pack = config.packObjects;
    if (pack) {
      this.#packObjects = {
        byUser: pack.key === "user",
        limiter: new ConcurrencyLimiter({
          limit: fixedLimit(pack.maxConcurrency),
          maxQueueSize: pack.maxQueueLength,
          maxQueueWaitMs: pack.maxQueueWaitMs,
          monitor: packObjectsMonitor(metrics),
          clock,
        }),
      };
    }
  }

  /** Whether any limit applies to `path` (so the caller needs the first request before it runs). */
  applies(path: string): boolean {
    return this.#concurrency.has(path) || this.#rate.has(path) ||
      (this.#packObjects !== undefined && UPLOAD_PACK_RPCS.includes(path));
  }

  /**
   * Runs `fn` within the limits of `call`: the token bucket first (refused
   * at once), then the RPC's concurrency limit, then pack-objects' (each
   * may queue); the slots are held until `fn` settles.
   */
  async run<T>(call: LimitedCall, fn: () => Promise<T>): Promise<T> {
    const key = repositoryKey(call.request);
    if (key === "") return await fn();
    this.#rate.get(call.path)?.take(key);
    const concurrency = this.#concurrency.get(call.path);
    const pack = this.#packObjects;
    const withPackObjects = pack && UPLOAD_PACK_RPCS.includes(call.path)
      ? () => {
        const packKey = pack.byUser ? call.userId ?? "" : key;
        if (packKey === "") return fn();
        return pack.limiter.limit(packKey, call.signal, fn, call.logFields);
      }
      : fn;
    if (!concurrency) return await withPackObjects();
    return await concurrency.limit(key, call.signal, withPackObjects, call.logFields);
  }
}

/** The limiting key of a request: its repository's relative path, or "" without one. */
export function repositoryKey(request: unknown): string {
  const repository = (request as { repository?: { relative_path?: unknown } | null } | null)
    ?.repository;
  const path = repository?.relative_path;
  return typeof path === "string" ? path : "";
}

function splitMethod(fullMethod: string): { service: string; method: string } {
  const [service, method] = fullMethod.replace(/^\//, "").split("/");
  return method === undefined ? { service: "unknown", method: "unknown" } : { service, method };
}

/** Gitaly's per-RPC monitor: `gitaly_concurrency_limiting_*` and `gitaly_requests_dropped_total`. */
function perRpcMonitor(rpc: string, metrics: ServerMetrics): LimitMonitor {
  const { service, method } = splitMethod(rpc);
  const labels = { system: "gitaly", grpc_service: service, grpc_method: method };
  // Gitaly shows each configured RPC's series from the start, at zero.
  metrics.concurrencyQueued.set(labels, 0);
  metrics.concurrencyInProgress.set(labels, 0);
  metrics.concurrencyAcquiringSeconds.zero(labels);
  return monitor("per-rpc", {
    queued: metrics.concurrencyQueued.labels(labels),
    inProgress: metrics.concurrencyInProgress.labels(labels),
    acquiring: metrics.concurrencyAcquiringSeconds.labels(labels),
    dropped: (reason) => metrics.requestsDropped.labels({ ...labels, reason }).inc(),
  });
}

/** Gitaly's pack-objects monitor: `gitaly_pack_objects_*`. */
function packObjectsMonitor(metrics: ServerMetrics): LimitMonitor {
  return monitor("pack-objects", {
    queued: metrics.packObjectsQueued,
    inProgress: metrics.packObjectsInProgress,
    acquiring: metrics.packObjectsAcquiringSeconds,
    dropped: (reason) => metrics.packObjectsDropped.labels({ reason }).inc(),
  });
}

interface Gauge {
  inc(): void;
  dec(): void;
}

function monitor(
  type: string,
  m: {
    queued: Gauge;
    inProgress: Gauge;
    acquiring: { observe(seconds: number): void };
    dropped: (reason: DropReason) => void;
  },
): LimitMonitor {
  return {
    queued(key, queueLength, log) {
      log["limit.limiting_type"] = type;
      log["limit.limiting_key"] = key;
      log["limit.concurrency_queue_length"] = queueLength;
      m.queued.inc();
    },
    dequeued() {
      m.queued.dec();
    },
    entered(inProgress, seconds, log) {
      m.inProgress.inc();
      m.acquiring.observe(seconds);
      log["limit.concurrency_queue_ms"] = Math.round(seconds * 1000);
      log["limit.concurrency_in_progress"] = inProgress;
    },
    exited() {
      m.inProgress.dec();
    },
    dropped(key, reason, seconds, log) {
      log["limit.limiting_type"] = type;
      log["limit.limiting_key"] = key;
      log["limit.concurrency_dropped"] = reason;
      log["limit.concurrency_queue_ms"] = Math.round(seconds * 1000);
      m.dropped(reason);
    },
  };
}
