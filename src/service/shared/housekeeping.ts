/**
 * Repository housekeeping as Gitaly does it: pruning loose objects past a
 * grace period, full repacks that move unreachable objects into a cruft
 * pack (expiring those past the grace period), and commit-graph rewrites.
 * Every command runs with the repack settings Gitaly uses (delta islands,
 * bitmap lookup tables).
 *
 * @module
 */
import { join } from "node:path";
import type { GitConfigEntry } from "../../git/command.ts";
import type { ServiceDeps } from "../deps.ts";

/** The file whose mtime records the last full repack (Gitaly's heuristics read it). */
export const FULL_REPACK_TIMESTAMP = ".gitaly-full-repack-timestamp";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `date` the way git writes dates (`Mon Jan 02 2006 15:04:05 +0000`), in UTC. */
export function gitDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${
    pad(date.getUTCSeconds())
  }`;
  return `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${
    pad(date.getUTCDate())
  } ${date.getUTCFullYear()} ${time} +0000`;
}

/** The settings of every command that writes packs; `pool` repositories island their own namespace. */
export function repackConfig(options: { bitmap: boolean; pool: boolean }): GitConfigEntry[] {
  const [namespace, core] = options.pool ? ["refs/remotes/origin", "a"] : ["refs", "e"];
  const islands = options.pool
    ? [`${namespace}/he(a)ds`, `${namespace}/t(a)gs`]
    : ["r(e)fs/heads", "r(e)fs/tags"];
  return [
    { key: "repack.useDeltaIslands", value: "true" },
    { key: "repack.writeBitmaps", value: String(options.bitmap) },
    { key: "pack.writeBitmapLookupTable", value: "true" },
    ...islands.map((value) => ({ key: "pack.island", value })),
    { key: "pack.islandCore", value: core },
  ];
}

/** Deletes loose objects that are packed, or unreachable and older than `expireBefore`. */
export async function pruneObjects(
  deps: ServiceDeps,
  repoPath: string,
  expireBefore: Date,
  signal?: AbortSignal,
): Promise<void> {
  await deps.git.runOk({
    gitDir: repoPath,
    command: { name: "prune", flags: [`--expire=${gitDate(expireBefore)}`] },
    signal,
  });
}

/** Options of {@link repackFullWithCruft}. */
export interface CruftRepackOptions {
  /** Unreachable objects older than this are dropped instead of kept in the cruft pack. */
  expireBefore: Date;
  /** Also write a multi-pack index (and its bitmap, with `bitmap`). */
  multiPackIndex: boolean;
  bitmap: boolean;
  pool: boolean;
  signal?: AbortSignal;
}

/**
 * A full repack: reachable objects into one pack, unreachable ones into a
 * cruft pack, old packs and loose objects deleted. The full-repack
 * timestamp is updated first, as Gitaly does (so a repack that keeps
 * failing is not retried at once).
 */
export async function repackFullWithCruft(
  deps: ServiceDeps,
  repoPath: string,
  options: CruftRepackOptions,
): Promise<void> {
  await touch(join(repoPath, FULL_REPACK_TIMESTAMP));
  const flags = [
    "--cruft",
    "--pack-kept-objects",
    "-l",
    "-d",
    `--cruft-expiration=${gitDate(options.expireBefore)}`,
  ];
  if (options.multiPackIndex) flags.push("--write-midx");
  await deps.git.runOk({
    gitDir: repoPath,
    command: { name: "repack", flags },
    config: repackConfig(options),
    signal: options.signal,
  });
}

/** Writes the commit-graph (with Bloom filters), replacing the whole chain when asked. */
export async function writeCommitGraph(
  deps: ServiceDeps,
  repoPath: string,
  options: { replaceChain: boolean; signal?: AbortSignal },
): Promise<void> {
  await deps.git.runOk({
    gitDir: repoPath,
    args: [
      "commit-graph",
      "write",
      "--reachable",
      "--changed-paths",
      "--size-multiple=4",
      options.replaceChain ? "--split=replace" : "--split",
    ],
    signal: options.signal,
  });
}

async function touch(path: string): Promise<void> {
  const file = await Deno.open(path, { create: true, write: true });
  file.close();
  const now = new Date();
  await Deno.utime(path, now, now);
}
