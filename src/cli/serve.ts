/**
 * `serve`: load the configuration, build the services, listen, and stop
 * gracefully on SIGTERM/SIGINT.
 *
 * @module
 */
import { CatfileCache } from "../git/catfile.ts";
import { GitRunner } from "../git/command.ts";
import {
  type Config,
  ConfigError,
  DEFAULT_CONFIG_TOML,
  loadConfigFile,
  type LoadedConfig,
  parseConfig,
} from "../server/config.ts";
import { ListenError } from "../server/listeners.ts";
import { Locator } from "../server/locator.ts";
import { Logger } from "../server/logger.ts";
import { serveMetrics, ServerMetrics } from "../server/metrics.ts";
import { DailyMaintenance } from "../service/shared/housekeeping/daily.ts";
import { HousekeepingManager } from "../service/shared/housekeeping/manager.ts";
import { isPoolPath } from "../service/shared/pool_path.ts";
import { currentCallScope } from "../server/call_scope.ts";
import { GitalyServer } from "../server/server.ts";
import type { ServiceDeps } from "../service/deps.ts";
import { BackchannelTransactionManager } from "../service/shared/transaction.ts";
import { HealthState, ServingStatus } from "../service/health/mod.ts";
import { buildRegistrations } from "../service/registry.ts";
import { HookSocket, HooksRuntime } from "../service/hooks/mod.ts";
import { PackObjectsCache } from "../service/hooks/pack_objects_cache.ts";
import { GitlabApiError, GitlabClient } from "../gitlab/client.ts";
import { launcherChain, watchLauncher } from "./launcher.ts";
import { parseFlags, UsageError } from "./usage.ts";

/** Runs the server until a signal stops it; resolves to the exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { config: { type: "string", short: "c" } });
  if (positionals.length > 1 || (positionals.length === 1 && values.config)) {
    throw new UsageError("serve takes one config file");
  }
  const configPath = values.config ?? positionals[0];
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(configPath);
    await prepareDirectories(loaded.config, configPath === undefined);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 1;
  }
  let running: RunningServer;
  try {
    running = await startServer(loaded.config, loaded.warnings);
  } catch (err) {
    if (err instanceof GitlabApiError) {
      console.error(`error: GitLab API client: ${err.message}`);
      return 1;
    }
    if (!(err instanceof ListenError)) throw err;
    console.error(`error: ${err.message}`);
    return 1;
  }
  const stopRequest = stopRequested(running.logger);
  for (const address of running.addresses) console.log(`listening on ${address}`);
  console.log("SERVING");
  await running.stop(await stopRequest);
  return 0;
}

async function loadConfig(path: string | undefined): Promise<LoadedConfig> {
  return path === undefined
    ? parseConfig(DEFAULT_CONFIG_TOML, Deno.cwd())
    : await loadConfigFile(path);
}

/** The embedded default creates its folders; a config file must name existing storages. */
async function prepareDirectories(config: Config, embedded: boolean): Promise<void> {
  for (const [i, storage] of config.storages.entries()) {
    if (embedded) await Deno.mkdir(storage.path, { recursive: true });
    const info = await Deno.stat(storage.path).catch(() => null);
    if (!info?.isDirectory) {
      throw new ConfigError(`storage[${i}].path`, `no such directory: ${storage.path}`);
    }
  }
  if (config.socketPath) {
    await Deno.mkdir(config.socketPath.replace(/\/[^/]*$/, "") || "/", { recursive: true });
  }
}

/** A started server and how to stop it. */
export interface RunningServer {
  addresses: string[];
  logger: Logger;
  /** Drains and stops; `reason` (a signal's name, …) goes into the log. */
  stop(reason?: string): Promise<void>;
}

/** Builds every dependency and starts listening; `warnings` (about the config) are logged first. */
export async function startServer(
  config: Config,
  warnings: string[] = [],
): Promise<RunningServer> {
  const logger = new Logger(config.logging.format, config.logging.level);
  for (const warning of warnings) logger.warn(warning);
  const metrics = new ServerMetrics();
  const git = new GitRunner({
    binPath: config.git.binPath,
    config: config.git.config,
    maxProcesses: config.git.maxProcesses,
    spawnObserver: {
      onQueueLength: (length) => metrics.spawnWaitingLength.set(length),
      onWait: (seconds) => metrics.spawnWaitSeconds.observe(seconds),
      onTimeout: () => metrics.spawnTimeouts.inc(),
    },
    onExit: (subcommand, seconds) =>
      metrics.countCommand(subcommand, seconds, currentCallScope(), gitVersion),
  });
  let gitVersion = "";
  git.version().then((version) => gitVersion = version, () => {});
  metrics.countRunningCommands = () => git.liveCount();
  const catfile = new CatfileCache(git, {
    maxProcesses: config.git.catfileCacheSize,
    onLookup: (_kind, hit) => metrics.catfileCache.inc({ type: hit ? "hit" : "miss" }),
  });
  const gitlab = config.gitlab ? await GitlabClient.create(config.gitlab) : undefined;
  if (!gitlab) logger.warn("no [gitlab] url configured: pushes are not checked by GitLab");
  const hooks = new HooksRuntime(config.runtimeDir, config.hooks.customHooksDir);
  await hooks.prepare();
  const housekeeping = new HousekeepingManager(git, logger, metrics.housekeeping);
  const packObjectsCache = buildPackObjectsCache(config, metrics);
  const deps: ServiceDeps = {
    config,
    locator: new Locator(config.storages),
    git,
    catfile,
    logger,
    hooks,
    gitlab,
    housekeeping,
    packObjectsCache,
    transactions: new BackchannelTransactionManager({
      observeVote: (seconds) => metrics.votingDelay.observe(seconds),
    }),
  };
  const hookSocket = await HookSocket.listen(deps, hooks.hookSocket);
  const maintenance = dailyMaintenance(config, housekeeping, logger);
  const health = new HealthState();
  const { services, extraServices } = buildRegistrations(deps, health);
  const server = new GitalyServer({
    config,
    logger,
    metrics,
    services,
    extraServices,
    internalSocketPath: hooks.internalSocket,
  });
  let addresses: string[];
  try {
    // The internal socket is for our own hooks; it is not announced.
    addresses = (await server.start()).filter((a) => a !== `unix:${hooks.internalSocket}`);
  } catch (error) {
    await hookSocket.close();
    hooks.closeSync();
    gitlab?.close();
    throw error;
  }
  const metricsServer = config.prometheusListenAddr
    ? serveMetrics(config.prometheusListenAddr, metrics)
    : undefined;
  if (metricsServer) addresses.push(`http://${formatNetAddr(metricsServer.addr)}/metrics`);
  logger.info("server started", { addresses: addresses.join(" ") });
  maintenance?.start();
  return {
    addresses,
    logger,
    stop: async (reason?: string) => {
      health.set(ServingStatus.NOT_SERVING);
      logger.info("shutting down", {
        ...(reason ? { reason } : {}),
        grace_ms: config.gracefulRestartTimeoutMs,
        in_flight: server.calls.size,
      });
      await maintenance?.stop();
      const { aborted } = await server.stop(config.gracefulRestartTimeoutMs);
      await hookSocket.close();
      await git.killAll();
      await catfile.close();
      await packObjectsCache.close();
      await metricsServer?.shutdown();
      hooks.closeSync();
      gitlab?.close();
      logger.info("stopped", { aborted_calls: aborted });
    },
  };
}

/** The `[pack_objects_cache]`, counting into Gitaly's metrics. */
function buildPackObjectsCache(config: Config, metrics: ServerMetrics): PackObjectsCache {
  const cfg = config.packObjectsCache ??
    { enabled: false, dir: "", maxAgeMs: 5 * 60_000, minOccurrences: 1 };
  if (cfg.enabled) {
    metrics.packObjectsCacheEnabled.set({ dir: cfg.dir, max_age: cfg.maxAgeMs / 1000 }, 1);
  }
  return new PackObjectsCache({
    ...cfg,
    observer: {
      onLookup: (hit) => metrics.packObjectsCacheLookups.inc({ result: hit ? "hit" : "miss" }),
      onEntries: (count) => metrics.streamcacheEntries.set({ dir: cfg.dir }, count),
      onServed: (bytes) => metrics.packObjectsServedBytes.inc(bytes),
      onGenerated: (bytes) => metrics.packObjectsGeneratedBytes.inc(bytes),
    },
  });
}

/** The `[daily_maintenance]` scheduler, or none when disabled or without a window. */
function dailyMaintenance(
  config: Config,
  housekeeping: HousekeepingManager,
  logger: Logger,
): DailyMaintenance | undefined {
  const cfg = config.dailyMaintenance;
  if (cfg.disabled || cfg.durationMs === 0 || cfg.storages.length === 0) {
    logger.info("maintenance: daily maintenance disabled");
    return undefined;
  }
  return new DailyMaintenance({
    ...cfg,
    storages: cfg.storages.map((name) => config.storages.find((s) => s.name === name)!),
    logger,
    optimize: async (repo, signal) => {
      await housekeeping.optimize(
        { repoPath: repo.path, isObjectPool: isPoolPath(repo.relativePath) },
        {
          signal,
          logFields: { storage: repo.storage, relative_path: repo.relativePath },
        },
      );
    },
  });
}

function formatNetAddr(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Resolves with the reason of the first stop request: SIGTERM, SIGINT, or
 * the launcher going away (see `launcher.ts`). The signal listeners stay:
 * a second signal, e.g. the terminal's SIGINT and the one `deno task`
 * forwards, must not kill the process in the middle of the drain.
 */
function stopRequested(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    let requested = false;
    const request = (reason: string) => {
      if (requested) return logger.info("already stopping", { reason });
      requested = true;
      watch.close();
      resolve(reason);
    };
    const watch = watchLauncher(launcherChain(), request);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, () => request(signal));
    }
  });
}
