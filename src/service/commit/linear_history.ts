/**
 * The last commits of many paths in one walk, where that is exactly what
 * one `git log --max-count=1 <revision> -- <path>` per path would find: on
 * the stretch of history from the revision down to its first merge. There
 * each commit has one parent, so every per-path walk visits the same
 * commits in the same order, and a path's last commit is the first commit
 * of the stretch whose diff (renames off) touches it. Paths not changed on
 * the stretch are left for the per-path look-up.
 *
 * @module
 */
import type { ServiceDeps } from "../deps.ts";
import { chomp, forEachRecord } from "./history.ts";

const decoder = new TextDecoder();
const SOH = 0x01;
/** Bytes that make a path a pattern (or magic) for git's pathspecs. */
const PATHSPEC_SPECIAL = new Set([0x2a, 0x3f, 0x5b, 0x5c]);

/** What {@link lastCommitsOnLinearTip} looks up. */
export interface LinearQuery {
  revision: string;
  /** The pathspec the paths were listed under (`.` for the whole tree). */
  pathspec: string;
  /** Full paths (tree entries under `pathspec`). */
  paths: Uint8Array[];
  literalPathspecs: boolean;
  signal: AbortSignal;
}

/** Index in `query.paths` → id of the last commit that changed it, for the paths found. */
export async function lastCommitsOnLinearTip(
  deps: ServiceDeps,
  repoPath: string,
  query: LinearQuery,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const literal = query.literalPathspecs;
  if (!literal && isPattern(new TextEncoder().encode(query.pathspec))) return found;
  const wanted = new Map<string, number>();
  query.paths.forEach((path, index) => {
    if (literal || !isPattern(path)) wanted.set(latin1(path), index);
  });
  if (wanted.size === 0) return found;
  const env = literal ? { GIT_LITERAL_PATHSPECS: "1" } : undefined;
  const merge = await deps.git.run({
    gitDir: repoPath,
    command: { name: "rev-list", flags: ["--merges", "--max-count=1"], args: [query.revision] },
    env,
    signal: query.signal,
  });
  if (merge.code !== 0) return found;
  const firstMerge = decoder.decode(chomp(merge.stdout));
  let commit = "";
  await forEachRecord(deps, {
    gitDir: repoPath,
    command: {
      name: "log",
      flags: ["--format=%x01%H", "--name-only", "--no-renames", "-z"],
      args: firstMerge === "" ? [query.revision] : [query.revision, `^${firstMerge}`],
      postSepArgs: [query.pathspec],
    },
    env,
    signal: query.signal,
  }, (record) => {
    let name = record[record.length - 1] === 0 ? record.subarray(0, -1) : record;
    if (name[0] === SOH) {
      commit = decoder.decode(name.subarray(1));
      return Promise.resolve(true);
    }
    if (name[0] === 0x0a) name = name.subarray(1);
    // The changed file and each directory above it.
    let key = latin1(name);
    while (true) {
      const index = wanted.get(key);
      if (index !== undefined) {
        wanted.delete(key);
        found.set(index, commit);
      }
      const slash = key.lastIndexOf("/");
      if (slash < 0) break;
      key = key.slice(0, slash);
    }
    return Promise.resolve(wanted.size > 0);
  }, 0);
  return found;
}

function isPattern(path: Uint8Array): boolean {
  return path[0] === 0x3a || path.some((byte) => PATHSPEC_SPECIAL.has(byte));
}

/** One char a byte: a lossless map key for raw paths. */
function latin1(bytes: Uint8Array): string {
  return new TextDecoder("latin1").decode(bytes);
}
