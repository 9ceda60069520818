/**
 * Background housekeeping as Gitaly's `[daily_maintenance]`: every day at
 * `start_hour:start_minute` UTC, for at most `duration`, walk the
 * configured storages and optimize each repository (heuristical strategy),
 * one at a time. When the window closes the running optimization is
 * cancelled (git's steps survive being killed) and the walk resumes the
 * next day from the start.
 *
 * @module
 */
import type { Logger } from "../../../server/logger.ts";
import { isGitDirectory } from "../../../server/locator.ts";

/** Time as the scheduler sees it; tests inject one that needs no real waiting. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The wall clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }),
};

/** One repository found in a storage. */
export interface MaintainedRepository {
  storage: string;
  relativePath: string;
  path: string;
}

/** How the daily maintenance runs. */
export interface DailyMaintenanceOptions {
  startHour: number;
  startMinute: number;
  durationMs: number;
  /** The storages to walk, in order. */
  storages: { name: string; path: string }[];
  /** Optimizes one repository; `signal` aborts when the window closes. */
  optimize(repo: MaintainedRepository, signal: AbortSignal): Promise<void>;
  logger: Logger;
  clock?: Clock;
}

/** The first `hour:minute` UTC at or after `now`. */
export function nextStart(now: number, hour: number, minute: number): number {
  const day = new Date(now);
  const today = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, minute);
  return today >= now ? today : today + 24 * 3600 * 1000;
}

/** The git repositories below `root`, skipping Gitaly's `+gitaly` data directory. */
export async function* storageRepositories(
  storage: string,
  root: string,
): AsyncGenerator<MaintainedRepository> {
  const walk = async function* (dir: string, rel: string): AsyncGenerator<MaintainedRepository> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      if (!entry.isDirectory || (rel === "" && entry.name === "+gitaly")) continue;
      const path = `${dir}/${entry.name}`;
      const relativePath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (await isGitDirectory(path)) yield { storage, relativePath, path };
      else yield* walk(path, relativePath);
    }
  };
  yield* walk(root, "");
}

/** The scheduler; {@link start} it once, {@link stop} it on shutdown. */
export class DailyMaintenance {
  readonly #options: DailyMaintenanceOptions;
  readonly #clock: Clock;
  readonly #stopper = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: DailyMaintenanceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Starts the daily loop in the background. */
  start(): void {
    this.#loop ??= this.#run().catch((err) => {
      if (!this.#stopper.signal.aborted) {
        this.#options.logger.error("maintenance: scheduler failed", { error: String(err) });
      }
    });
  }

  /** Stops the loop, cancelling a running optimization, and waits for it. */
  async stop(): Promise<void> {
    this.#stopper.abort(new Error("maintenance stopped"));
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { logger, startHour, startMinute } = this.#options;
    const stop = this.#stopper.signal;
    while (!stop.aborted) {
      const now = this.#clock.now();
      const start = nextStart(now, startHour, startMinute);
      logger.info("maintenance: daily scheduled", { scheduled: new Date(start).toISOString() });
      await this.#clock.sleep(start - now, stop);
      await this.runWindow(start + this.#options.durationMs);
      // Never twice in the same minute, even with a clock that stands still.
      const after = this.#clock.now();
      if (after < start + 60_000) await this.#clock.sleep(start + 60_000 - after, stop);
    }
  }

  /** Walks the storages until `deadline` (epoch ms); exported for tests. */
  async runWindow(deadline: number): Promise<{ optimized: number; failed: number }> {
    const { logger, storages, optimize } = this.#options;
    const window = new AbortController();
    const stop = this.#stopper.signal;
    const onStop = () => window.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    const closer = this.#clock.sleep(Math.max(0, deadline - this.#clock.now()), window.signal).then(
      () => window.abort(new Error("maintenance window closed")),
      () => {},
    );
    let optimized = 0;
    let failed = 0;
    logger.info("maintenance: started", { storages: storages.map((s) => s.name).join(",") });
    try {
      walk: for (const storage of storages) {
        for await (const repo of storageRepositories(storage.name, storage.path)) {
          if (window.signal.aborted || this.#clock.now() >= deadline) break walk;
          try {
            await optimize(repo, window.signal);
            optimized++;
            logger.info("maintenance: repository optimized", {
              storage: repo.storage,
              relative_path: repo.relativePath,
            });
          } catch (err) {
            if (window.signal.aborted) break walk;
            failed++;
            logger.warn("maintenance: repository optimization failed", {
              storage: repo.storage,
              relative_path: repo.relativePath,
              error: err instanceof Error ? err.message : String(err),
            });
          }
        }
      }
    } finally {
      stop.removeEventListener("abort", onStop);
      const closed = window.signal.aborted || this.#clock.now() >= deadline;
      window.abort();
      await closer;
      logger.info("maintenance: finished", {
        optimized,
        failed,
        window_closed: closed,
      });
    }
    return { optimized, failed };
  }
}
