/**
 * Repository optimization as Gitaly 16.7's housekeeping manager: clean
 * stale data, then repack objects, write the commit-graph, prune and pack
 * references as the strategy decides, one optimization per repository at a
 * time. Every step is one of git's own (repack, pack-objects, prune,
 * pack-refs, commit-graph), which write new files and rename them into
 * place: a killed step leaves the repository readable, and concurrent
 * fetches and pushes keep working.
 *
 * @module
 */
import type { GitConfigEntry, GitRunner } from "../../../git/command.ts";
import type { LogFields, Logger } from "../../../server/logger.ts";
import { FULL_REPACK_TIMESTAMP, repositoryInfo } from "./info.ts";
import { cleanStaleData } from "./stale.ts";
import {
  type OptimizationStrategy,
  optimizationStrategy,
  type RepackConfig,
  type StrategyName,
} from "./strategy.ts";

/** Receives Gitaly's housekeeping metrics. */
export interface HousekeepingObserver {
  /** `gitaly_housekeeping_tasks_total{housekeeping_task,status}`. */
  task(task: string, status: "success" | "failure"): void;
  /** `gitaly_housekeeping_tasks_latency{housekeeping_task}`, in seconds. */
  latency(stage: string, seconds: number): void;
  /** `gitaly_housekeeping_pruned_files_total{filetype}`. */
  pruned(filetype: string, count: number): void;
}

/** The repository to optimize. */
export interface OptimizeTarget {
  repoPath: string;
  /** Whether it is an object pool (never pruned, unreachable objects kept). */
  isObjectPool: boolean;
}

/** Options of one optimization. */
export interface OptimizeOptions {
  strategy?: StrategyName;
  signal?: AbortSignal;
  /** Extra log fields (e.g. the repository's storage and relative path). */
  logFields?: LogFields;
}

/** What an optimization did: task name to outcome; `skipped` when another one was running. */
export interface OptimizeResult {
  skipped: boolean;
  tasks: Record<string, "success" | "failure">;
}

/** Formats an epoch-ms time as git's date parser reads it. */
export function gitDate(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " +0000");
}

/** Optimizes repositories; one instance is shared by the RPC and the daily maintenance. */
export class HousekeepingManager {
  readonly #running = new Set<string>();

  constructor(
    readonly git: GitRunner,
    readonly logger: Logger,
    readonly observer?: HousekeepingObserver,
    /** The clock (tests inject one). */
    readonly now: () => number = Date.now,
  ) {}

  /**
   * Optimizes `target`. A second optimization of the same repository while
   * one runs returns at once (`skipped`), as Gitaly does.
   */
  async optimize(target: OptimizeTarget, options: OptimizeOptions = {}): Promise<OptimizeResult> {
    const { repoPath } = target;
    if (this.#running.has(repoPath)) {
      this.logger.info("skipping repository optimization: already in progress", options.logFields);
      return { skipped: true, tasks: {} };
    }
    this.#running.add(repoPath);
    const tasks: OptimizeResult["tasks"] = {};
    const started = performance.now();
    let status: "success" | "failure" = "failure";
    try {
      await this.#optimize(target, options, tasks);
      status = "success";
      return { skipped: false, tasks };
    } finally {
      this.#running.delete(repoPath);
      this.observer?.latency("total", (performance.now() - started) / 1000);
      for (const [task, outcome] of Object.entries(tasks)) this.observer?.task(task, outcome);
      this.observer?.task("total", status);
      const fields: LogFields = { ...options.logFields, "optimizations.total": status };
      for (const [task, outcome] of Object.entries(tasks)) {
        fields[`optimizations.${task}`] = outcome;
      }
      this.logger.info("optimized repository", fields);
    }
  }

  async #stage<T>(
    stage: string,
    task: string | null,
    tasks: OptimizeResult["tasks"],
    fn: () => Promise<T>,
  ) {
    const started = performance.now();
    try {
      const result = await fn();
      if (task) tasks[task] = "success";
      return result;
    } catch (err) {
      if (task) tasks[task] = "failure";
      throw err;
    } finally {
      this.observer?.latency(stage, (performance.now() - started) / 1000);
    }
  }

  async #optimize(
    target: OptimizeTarget,
    options: OptimizeOptions,
    tasks: OptimizeResult["tasks"],
  ) {
    const { repoPath } = target;
    const signal = options.signal;
    const now = this.now();
    await this.#stage("clean-stale-data", "cleaned_stale_data", tasks, async () => {
      const counts = await cleanStaleData(repoPath, now);
      for (const [type, count] of Object.entries(counts)) this.observer?.pruned(type, count);
    });
    signal?.throwIfAborted();
    const info = await repositoryInfo(repoPath, { isObjectPool: target.isObjectPool, now });
    const strategy: OptimizationStrategy = optimizationStrategy(
      options.strategy ?? "heuristical",
      info,
      now,
    );
    // Decided before anything changes the repository, as Gitaly decides.
    const repack = strategy.repackObjects();
    const commitGraph = strategy.writeCommitGraph();
    const prune = strategy.pruneObjects();
    const packRefs = strategy.repackReferences();
    if (repack) {
      await this.#stage(
        "repack",
        `packed_objects_${repack.strategy}`,
        tasks,
        () => this.#repack(target, repack, signal),
      );
      if (repack.writeBitmap) tasks.written_bitmap = "success";
      if (repack.writeMultiPackIndex) tasks.written_multi_pack_index = "success";
    }
    if (commitGraph) {
      const task = commitGraph.replaceChain
        ? "written_commit_graph_full"
        : "written_commit_graph_incremental";
      await this.#stage("commit-graph", task, tasks, () =>
        this.git.runOk({
          gitDir: repoPath,
          // The subcommand comes first; nothing here comes from a request.
          args: [
            "commit-graph",
            "write",
            "--reachable",
            "--changed-paths",
            "--size-multiple=4",
            commitGraph.replaceChain ? "--split=replace" : "--split",
          ],
          signal,
        }));
    }
    if (prune !== null) {
      await this.#stage("prune", "pruned_objects", tasks, () =>
        this.git.runOk({
          gitDir: repoPath,
          command: { name: "prune", flags: [`--expire=${gitDate(prune)}`] },
          signal,
        }));
    }
    if (packRefs) {
      await this.#stage("pack-refs", "packed_refs", tasks, () =>
        this.git.runOk({
          gitDir: repoPath,
          command: { name: "pack-refs", flags: ["--all"] },
          signal,
        }));
    }
  }

  async #repack(target: OptimizeTarget, cfg: RepackConfig, signal?: AbortSignal): Promise<void> {
    const { repoPath } = target;
    if (cfg.strategy === "incremental_with_unreachable") {
      // Every loose object into one new pack, reachable or not, then drop the loose copies.
      await this.git.runOk({
        gitDir: repoPath,
        command: {
          name: "pack-objects",
          flags: ["--pack-loose-unreachable", "--local", "--incremental", "--non-empty", "--quiet"],
          args: [`${repoPath}/objects/pack/pack`],
        },
        config: [{ key: "pack.writeReverseIndex", value: "true" }],
        signal,
      });
      await this.git.runOk({
        gitDir: repoPath,
        command: { name: "prune-packed", flags: ["--quiet"] },
        signal,
      });
      return;
    }
    // `-n`: no server info (git 2.39 has no repack.updateServerInfo).
    const flags = ["-d", "-n"];
    switch (cfg.strategy) {
      case "geometric":
        flags.push("--geometric=2", "-l");
        break;
      case "full_with_cruft":
        flags.push("--cruft", "--pack-kept-objects", "-l");
        if (cfg.cruftExpireBefore !== undefined) {
          flags.push(`--cruft-expiration=${gitDate(cfg.cruftExpireBefore)}`);
        }
        break;
      case "full_with_unreachable":
        flags.push("-a", "--keep-unreachable", "--pack-kept-objects", "-l");
        break;
    }
    if (cfg.writeMultiPackIndex) flags.push("--write-midx");
    if (cfg.writeBitmap) flags.push("--write-bitmap-index");
    await this.git.runOk({
      gitDir: repoPath,
      command: { name: "repack", flags },
      config: repackConfig(target.isObjectPool, cfg.writeBitmap),
      signal,
    });
    if (cfg.strategy === "full_with_cruft" || cfg.strategy === "full_with_unreachable") {
      const stamp = `${repoPath}/${FULL_REPACK_TIMESTAMP}`;
      await Deno.writeFile(stamp, new Uint8Array());
      const at = new Date(this.now());
      await Deno.utime(stamp, at, at);
    }
  }
}

/** Delta islands and bitmap settings for repacks, as Gitaly's. */
function repackConfig(isObjectPool: boolean, bitmap: boolean): GitConfigEntry[] {
  const islands = isObjectPool
    ? ["refs/remotes/origin/he(a)ds", "refs/remotes/origin/t(a)gs", "a"]
    : ["r(e)fs/heads", "r(e)fs/tags", "e"];
  return [
    { key: "repack.useDeltaIslands", value: "true" },
    { key: "pack.island", value: islands[0] },
    { key: "pack.island", value: islands[1] },
    { key: "pack.islandCore", value: islands[2] },
    // Git 2.41's default (Gitaly 16.7's git writes `.rev` files); git 2.39 needs asking.
    { key: "pack.writeReverseIndex", value: "true" },
    ...bitmap
      ? [
        { key: "repack.writeBitmaps", value: "true" },
        { key: "pack.writeBitmapHashCache", value: "true" },
      ]
      : [{ key: "repack.writeBitmaps", value: "false" }],
  ];
}
