/**
 * What housekeeping needs to know about a repository, read from disk
 * without running git, as Gitaly's repository info: loose objects (and
 * those older than the grace period), packfiles (cruft packs, the
 * multi-pack index and bitmaps, the last full repack), references, the
 * commit-graph chain and alternates.
 *
 * @module
 */

/** Loose objects older than this may be pruned (Gitaly's two-week grace period). */
export const STALE_OBJECTS_GRACE_MS = 14 * 24 * 3600 * 1000;

/** The file whose modification time records the last full repack (Gitaly's name). */
export const FULL_REPACK_TIMESTAMP = ".gitaly-full-repack-timestamp";

/** A snapshot of the repository's data structures. */
export interface RepositoryInfo {
  isObjectPool: boolean;
  looseObjects: { count: number; staleCount: number; garbageCount: number };
  packfiles: {
    count: number;
    cruftCount: number;
    keepCount: number;
    size: number;
    hasBitmap: boolean;
    multiPackIndex: { exists: boolean; packfileCount: number; hasBitmap: boolean };
    /** Epoch milliseconds; 0 when never recorded. */
    lastFullRepack: number;
  };
  references: { looseCount: number; packedSize: number };
  commitGraph: { chainLength: number; hasBloomFilters: boolean; hasGenerationData: boolean };
  alternates: {
    objectDirectories: string[]; /** Epoch ms, 0 without alternates. */
    lastModified: number;
  };
}

const HEX = /^[0-9a-f]+$/;

/** Reads the info of the repository at `repoPath`; `now` decides which loose objects are stale. */
export async function repositoryInfo(
  repoPath: string,
  options: { isObjectPool: boolean; now: number },
): Promise<RepositoryInfo> {
  const [looseObjects, packfiles, references, commitGraph, alternates] = await Promise.all([
    looseObjectsInfo(repoPath, options.now - STALE_OBJECTS_GRACE_MS),
    packfilesInfo(repoPath),
    referencesInfo(repoPath),
    commitGraphInfo(repoPath),
    alternatesInfo(repoPath),
  ]);
  return {
    isObjectPool: options.isObjectPool,
    looseObjects,
    packfiles,
    references,
    commitGraph,
    alternates,
  };
}

async function readDirOrEmpty(path: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) return [];
    throw err;
  }
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw err;
  }
}

/** Counts every loose object of the 256 shards, as Gitaly 16.7 does (not an estimate). */
async function looseObjectsInfo(
  repoPath: string,
  cutoff: number,
): Promise<RepositoryInfo["looseObjects"]> {
  const info = { count: 0, staleCount: 0, garbageCount: 0 };
  for (let i = 0; i < 256; i++) {
    const shard = `${repoPath}/objects/${i.toString(16).padStart(2, "0")}`;
    const entries = await readDirOrEmpty(shard);
    const objects = entries.filter((entry) => HEX.test(entry.name));
    info.garbageCount += entries.length - objects.length;
    // A shard's stats at once: one by one they cost seconds on 20,000 objects.
    const stats = await Promise.all(objects.map((entry) => statOrNull(`${shard}/${entry.name}`)));
    for (const stat of stats) {
      if (!stat) continue;
      info.count++;
      if ((stat.mtime?.getTime() ?? 0) < cutoff) info.staleCount++;
    }
  }
  return info;
}

async function packfilesInfo(repoPath: string): Promise<RepositoryInfo["packfiles"]> {
  const dir = `${repoPath}/objects/pack`;
  const names = new Set((await readDirOrEmpty(dir)).map((e) => e.name));
  const info: RepositoryInfo["packfiles"] = {
    count: 0,
    cruftCount: 0,
    keepCount: 0,
    size: 0,
    hasBitmap: false,
    multiPackIndex: { exists: false, packfileCount: 0, hasBitmap: false },
    lastFullRepack: 0,
  };
  for (const name of names) {
    if (name.startsWith("multi-pack-index-") && name.endsWith(".bitmap")) {
      info.multiPackIndex.hasBitmap = true;
    }
    if (!name.startsWith("pack-")) continue;
    if (name.endsWith(".bitmap")) info.hasBitmap = true;
    if (!name.endsWith(".pack")) continue;
    const stat = await statOrNull(`${dir}/${name}`);
    if (!stat) continue;
    const base = name.slice(0, -".pack".length);
    info.count++;
    info.size += stat.size;
    if (names.has(`${base}.mtimes`)) info.cruftCount++;
    if (names.has(`${base}.keep`)) info.keepCount++;
  }
  if (names.has("multi-pack-index")) {
    const count = await midxPackCount(`${dir}/multi-pack-index`);
    if (count !== null) {
      info.multiPackIndex = { ...info.multiPackIndex, exists: true, packfileCount: count };
    }
  }
  const stamp = await statOrNull(`${repoPath}/${FULL_REPACK_TIMESTAMP}`);
  info.lastFullRepack = stamp?.mtime?.getTime() ?? 0;
  return info;
}

/** The header of a file, or null when it is missing. */
async function readHeader(path: string, length: number): Promise<Uint8Array | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    const buf = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(buf.subarray(read));
      if (n === null) break;
      read += n;
    }
    return buf.subarray(0, read);
  } finally {
    file.close();
  }
}

/** The number of packs a multi-pack index covers (its header), null when it is not one. */
async function midxPackCount(path: string): Promise<number | null> {
  const header = await readHeader(path, 12);
  if (!header || header.length < 12) return null;
  if (new TextDecoder().decode(header.subarray(0, 4)) !== "MIDX") return null;
  return new DataView(header.buffer, header.byteOffset).getUint32(8);
}

async function referencesInfo(repoPath: string): Promise<RepositoryInfo["references"]> {
  let looseCount = 0;
  const walk = async (dir: string) => {
    for (const entry of await readDirOrEmpty(dir)) {
      if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
      else looseCount++;
    }
  };
  await walk(`${repoPath}/refs`);
  const packed = await statOrNull(`${repoPath}/packed-refs`);
  return { looseCount, packedSize: packed?.size ?? 0 };
}

/** The chunk ids in a commit-graph file's table of contents. */
async function commitGraphChunks(path: string): Promise<Set<string> | null> {
  const header = await readHeader(path, 8);
  if (!header || header.length < 8) return null;
  if (new TextDecoder().decode(header.subarray(0, 4)) !== "CGPH") return null;
  const chunks = header[6];
  const table = await readHeader(path, 8 + (chunks + 1) * 12);
  if (!table) return null;
  const ids = new Set<string>();
  for (let i = 0; i < chunks; i++) {
    ids.add(new TextDecoder().decode(table.subarray(8 + i * 12, 12 + i * 12)));
  }
  return ids;
}

async function commitGraphInfo(repoPath: string): Promise<RepositoryInfo["commitGraph"]> {
  const dir = `${repoPath}/objects/info/commit-graphs`;
  let chain: string[] = [];
  try {
    chain = (await Deno.readTextFile(`${dir}/commit-graph-chain`)).split("\n").filter((l) =>
      HEX.test(l)
    );
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const files = chain.length > 0
    ? chain.map((hash) => `${dir}/graph-${hash}.graph`)
    : [`${repoPath}/objects/info/commit-graph`];
  let hasBloomFilters = true;
  let hasGenerationData = true;
  let any = false;
  for (const file of files) {
    const chunks = await commitGraphChunks(file);
    if (!chunks) continue;
    any = true;
    if (!chunks.has("BIDX") || !chunks.has("BDAT")) hasBloomFilters = false;
    if (!chunks.has("GDA2")) hasGenerationData = false;
  }
  return {
    chainLength: chain.length,
    hasBloomFilters: any && hasBloomFilters,
    hasGenerationData: any && hasGenerationData,
  };
}

async function alternatesInfo(repoPath: string): Promise<RepositoryInfo["alternates"]> {
  const path = `${repoPath}/objects/info/alternates`;
  try {
    const [text, stat] = await Promise.all([Deno.readTextFile(path), Deno.stat(path)]);
    return {
      objectDirectories: text.split("\n").filter((l) => l !== "" && !l.startsWith("#")),
      lastModified: stat.mtime?.getTime() ?? 0,
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { objectDirectories: [], lastModified: 0 };
    throw err;
  }
}
