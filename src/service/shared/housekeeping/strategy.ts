/**
 * Gitaly 16.7's optimization strategies: the heuristical one (the default:
 * do only what the repository's state calls for) and the eager one (do
 * everything), deciding from a {@link RepositoryInfo} alone.
 *
 * @module
 */
import { type RepositoryInfo, STALE_OBJECTS_GRACE_MS } from "./info.ts";

/** Loose objects tolerated before an incremental repack or a prune (Gitaly's limit). */
export const LOOSE_OBJECT_LIMIT = 1024;

/** Time that must pass after a full repack before the next one (five days). */
export const FULL_REPACK_COOLDOWN_MS = 5 * 24 * 3600 * 1000;

/** How objects get repacked, named as Gitaly's metrics name them. */
export type RepackStrategy =
  | "incremental_with_unreachable"
  | "geometric"
  | "full_with_cruft"
  | "full_with_unreachable";

/** A repack decision. */
export interface RepackConfig {
  strategy: RepackStrategy;
  writeBitmap: boolean;
  writeMultiPackIndex: boolean;
  /** Epoch ms: unreachable objects older than this are dropped (cruft repacks only). */
  cruftExpireBefore?: number;
}

/** What to do to a repository. */
export interface OptimizationStrategy {
  repackObjects(): RepackConfig | null;
  /** Epoch ms before which unreachable loose objects are pruned, or null for no prune. */
  pruneObjects(): number | null;
  repackReferences(): boolean;
  /** Whether to write the commit-graph, and whether to replace its whole chain. */
  writeCommitGraph(): { replaceChain: boolean } | null;
}

/** The request's strategies. */
export type StrategyName = "heuristical" | "eager";

/** Builds the named strategy for `info`, `now` being the current time. */
export function optimizationStrategy(
  name: StrategyName,
  info: RepositoryInfo,
  now: number,
): OptimizationStrategy {
  return name === "eager" ? eagerStrategy(info, now) : heuristicalStrategy(info, now);
}

function fullRepack(info: RepositoryInfo, expireBefore: number): RepackConfig {
  // Pools must never lose an object a member may need: unreachable objects stay in the pack.
  return info.isObjectPool
    ? {
      strategy: "full_with_unreachable",
      writeBitmap: info.alternates.objectDirectories.length === 0,
      writeMultiPackIndex: true,
    }
    : {
      strategy: "full_with_cruft",
      cruftExpireBefore: expireBefore,
      writeBitmap: info.alternates.objectDirectories.length === 0,
      writeMultiPackIndex: true,
    };
}

/** Gitaly's heuristics, scaled with the size of the object database. */
export function heuristicalStrategy(info: RepositoryInfo, now: number): OptimizationStrategy {
  const expireBefore = now - STALE_OBJECTS_GRACE_MS;
  const strategy: OptimizationStrategy = {
    repackObjects() {
      const packs = info.packfiles;
      if (packs.count === 0 && info.looseObjects.count === 0) return null;
      const full = fullRepack(info, expireBefore);
      // Joined a pool since the last full repack: deduplicate against it.
      if (info.alternates.lastModified > packs.lastFullRepack) return full;
      // Regular full repacks evict unreachable objects into a cruft pack and refresh
      // delta islands, which geometric repacks do not consider.
      if (
        packs.count - packs.cruftCount > 1 && now - packs.lastFullRepack > FULL_REPACK_COOLDOWN_MS
      ) {
        return full;
      }
      const geometric: RepackConfig = {
        strategy: "geometric",
        writeBitmap: info.alternates.objectDirectories.length === 0,
        writeMultiPackIndex: true,
      };
      if (!packs.multiPackIndex.exists) return geometric;
      // Packs written since the multi-pack index, allowed as log(size in MiB)/log(1.8), at least 2.
      const allowed = Math.max(2, Math.log(Math.floor(packs.size / 1024 / 1024)) / Math.log(1.8));
      if (packs.count - packs.multiPackIndex.packfileCount > Math.floor(allowed)) return geometric;
      // The cheapest roll-up of loose objects: no reachability walk, no index rewrite.
      if (info.looseObjects.count > LOOSE_OBJECT_LIMIT) {
        return {
          strategy: "incremental_with_unreachable",
          writeBitmap: false,
          writeMultiPackIndex: false,
        };
      }
      return null;
    },
    pruneObjects() {
      if (info.isObjectPool) return null;
      return info.looseObjects.staleCount > LOOSE_OBJECT_LIMIT ? expireBefore : null;
    },
    repackReferences() {
      const refs = info.references;
      if (refs.looseCount === 0) return false;
      // log(packed-refs bytes / 100) / log(1.15) loose refs tolerated, at least 16.
      const allowed = Math.max(16, Math.log(refs.packedSize / 100) / Math.log(1.15));
      return Math.floor(allowed) <= refs.looseCount;
    },
    writeCommitGraph() {
      const refs = info.references;
      if (refs.looseCount === 0 && refs.packedSize === 0) return null;
      if (strategy.pruneObjects() !== null) return { replaceChain: true };
      const graph = info.commitGraph;
      if (graph.chainLength === 0 || !graph.hasBloomFilters || !graph.hasGenerationData) {
        return { replaceChain: true };
      }
      const repack = strategy.repackObjects();
      if (repack) {
        // A cruft repack with an expiry may drop commits the chain still names.
        return {
          replaceChain: repack.strategy === "full_with_cruft" &&
            repack.cruftExpireBefore !== undefined,
        };
      }
      return null;
    },
  };
  return strategy;
}

/** Everything, regardless of state; pools are still never pruned. */
export function eagerStrategy(info: RepositoryInfo, now: number): OptimizationStrategy {
  const expireBefore = now - STALE_OBJECTS_GRACE_MS;
  return {
    repackObjects: () => fullRepack(info, expireBefore),
    pruneObjects: () => info.isObjectPool ? null : expireBefore,
    repackReferences: () => true,
    writeCommitGraph: () => ({ replaceChain: true }),
  };
}
