/**
 * Removal of data crashed or killed git processes leave behind, as
 * Gitaly's CleanStaleData: old temporary objects and packs, lock files no
 * process has touched for long, empty loose references, empty reference
 * directories and the dumb-HTTP server info. Grace periods keep anything a
 * running process may still use.
 *
 * @module
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Lock files git may leave at the repository's top; removed after 15 minutes. */
const LOCKFILES = [
  "config.lock",
  "HEAD.lock",
  "info/attributes.lock",
  "objects/info/alternates.lock",
  "objects/info/commit-graphs/commit-graph-chain.lock",
];
const LOCKFILE_GRACE_MS = 15 * MINUTE;
const TEMP_OBJECT_GRACE_MS = 7 * 24 * HOUR;
const BROKEN_REF_GRACE_MS = 24 * HOUR;
const REF_LOCK_GRACE_MS = HOUR;
const PACKED_REFS_LOCK_GRACE_MS = HOUR;
const PACKED_REFS_NEW_GRACE_MS = 15 * MINUTE;
const EMPTY_REF_DIR_GRACE_MS = 24 * HOUR;

/** Counts of what was removed, by Gitaly's `filetype` label. */
export type StaleCounts = Record<string, number>;

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw err;
  }
}

const olderThan = (stat: Deno.FileInfo, ms: number, now: number) =>
  now - (stat.mtime?.getTime() ?? 0) > ms;

/** Files (not directories) below `dir`, depth first; missing directories are empty. */
async function* walkFiles(dir: string): AsyncGenerator<{ path: string; name: string }> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied ||
      err instanceof Deno.errors.NotADirectory
    ) return;
    throw err;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walkFiles(path);
    else yield { path, name: entry.name };
  }
}

async function staleFiles(repoPath: string, now: number): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  const add = (type: string, path: string) => found.set(type, [...found.get(type) ?? [], path]);
  const top = async (type: string, grace: number, names: string[]) => {
    for (const name of names) {
      const stat = await lstatOrNull(`${repoPath}/${name}`);
      if (stat && olderThan(stat, grace, now)) add(type, `${repoPath}/${name}`);
    }
  };
  await top("locks", LOCKFILE_GRACE_MS, LOCKFILES);
  await top("packedrefslock", PACKED_REFS_LOCK_GRACE_MS, ["packed-refs.lock"]);
  await top("packedrefsnew", PACKED_REFS_NEW_GRACE_MS, ["packed-refs.new"]);
  // Temporary objects and packs (`tmp_obj_*`, `tmp_pack_*`, `tmp_idx_*`).
  for await (const file of walkFiles(`${repoPath}/objects`)) {
    if (!file.name.startsWith("tmp_")) continue;
    const stat = await lstatOrNull(file.path);
    if (stat && olderThan(stat, TEMP_OBJECT_GRACE_MS, now)) add("objects", file.path);
  }
  for await (const file of walkFiles(`${repoPath}/refs`)) {
    const stat = await lstatOrNull(file.path);
    if (!stat) continue;
    if (file.name.endsWith(".lock")) {
      if (olderThan(stat, REF_LOCK_GRACE_MS, now)) add("reflocks", file.path);
    } else if (stat.size === 0 && olderThan(stat, BROKEN_REF_GRACE_MS, now)) {
      add("refs", file.path);
    }
  }
  // Only the dumb HTTP protocol reads these; no grace period.
  for (const [dir, base] of [["info", "refs"], ["objects/info", "packs"]]) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(`${repoPath}/${dir}`));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    for (const entry of entries) {
      if (entry.isFile && (entry.name === base || entry.name.startsWith(`${base}_`))) {
        add("serverinfo", `${repoPath}/${dir}/${entry.name}`);
      }
    }
  }
  return found;
}

/**
 * Removes empty directories below `refs/` not modified for a day; `refs/`,
 * `refs/heads` and `refs/tags` stay (git needs them to recognise a
 * repository). Returns how many went.
 */
async function removeEmptyRefDirs(repoPath: string, now: number): Promise<number> {
  let removed = 0;
  const keep = new Set([`${repoPath}/refs`, `${repoPath}/refs/heads`, `${repoPath}/refs/tags`]);
  const visit = async (dir: string): Promise<boolean> => {
    let empty = true;
    // Taken before the children go: removing them touches the directory.
    const stat = await lstatOrNull(dir);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isDirectory || !await visit(`${dir}/${entry.name}`)) empty = false;
    }
    if (!empty || keep.has(dir)) return false;
    if (!stat || !olderThan(stat, EMPTY_REF_DIR_GRACE_MS, now)) return false;
    try {
      // Not recursive: a ref created meanwhile makes this fail, and the ref stays.
      await Deno.remove(dir);
      removed++;
      return true;
    } catch {
      return false;
    }
  };
  await visit(`${repoPath}/refs`);
  return removed;
}

/** Cleans the repository at `repoPath`; returns the counts removed by kind. */
export async function cleanStaleData(repoPath: string, now = Date.now()): Promise<StaleCounts> {
  const counts: StaleCounts = {};
  for (const [type, paths] of await staleFiles(repoPath, now)) {
    for (const path of paths) {
      try {
        await Deno.remove(path);
        counts[type] = (counts[type] ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) counts.failures = (counts.failures ?? 0) + 1;
      }
    }
  }
  const dirs = await removeEmptyRefDirs(repoPath, now);
  if (dirs > 0) counts.refsemptydir = dirs;
  return counts;
}
