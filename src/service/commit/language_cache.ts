/**
 * The per-repository cache of CommitLanguages, as Gitaly keeps one: the
 * totals of the last commit asked for, and for each file its blob id and
 * what it counted for, so the next commit only reads the blobs that
 * changed. Kept zlib-compressed in `deno-gitaly-language.stats` in the
 * repository (a name of our own: Gitaly's file has another format). A
 * change of any `.gitattributes` file or of `info/attributes` drops the
 * per-file part. The parsed cache stays in memory while the file is
 * unchanged, so a repeated call for the same commit reads nothing.
 *
 * @module
 */
import { join } from "node:path";

/** What one file counted for: its blob, and its language and size, or null when not counted. */
export type CachedFile = [oid: string, language: string | null, size: number];

/** The cache's content. */
export interface LanguageCache {
  version: 1;
  commitId: string;
  /** Identifies the attribute files the per-file results depend on. */
  attributesKey: string;
  files: Record<string, CachedFile>;
  totals: Record<string, number>;
}

const FILE = "deno-gitaly-language.stats";

/** Parsed caches kept in memory, by repository path, with what identified their file. */
const inMemory = new Map<string, { identity: string; cache: LanguageCache }>();
/** Repositories whose parsed cache stays in memory at most (the least recently used go). */
const IN_MEMORY_LIMIT = 32;

/**
 * What tells one version of the cache file from another without reading
 * it: each save renames a new file into place, so its inode changes (and
 * most often its size and modification time). A rename keeps the three, so
 * a save knows its file's identity from before the rename.
 */
function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

function remember(repoPath: string, identity: string, cache: LanguageCache): void {
  inMemory.delete(repoPath);
  inMemory.set(repoPath, { identity, cache });
  if (inMemory.size > IN_MEMORY_LIMIT) inMemory.delete(inMemory.keys().next().value!);
}

/**
 * The cache of `repoPath`, or null when there is none or it is unreadable.
 * The parsed cache stays in memory while its file is the same one (a stat
 * tells); callers must not change it.
 */
export async function loadLanguageCache(repoPath: string): Promise<LanguageCache | null> {
  const path = join(repoPath, FILE);
  try {
    const file = await Deno.open(path);
    const identity = identityOf(await file.stat());
    const known = inMemory.get(repoPath);
    if (known?.identity === identity) {
      file.close();
      remember(repoPath, identity, known.cache);
      return known.cache;
    }
    const text = await new Response(
      file.readable.pipeThrough(new DecompressionStream("deflate")),
    ).text();
    const cache = JSON.parse(text) as LanguageCache;
    if (cache.version !== 1 || typeof cache.commitId !== "string") return null;
    remember(repoPath, identity, cache);
    return cache;
  } catch {
    inMemory.delete(repoPath);
    return null;
  }
}

/** Replaces the cache of `repoPath` (written aside, then renamed into place). */
export async function saveLanguageCache(repoPath: string, cache: LanguageCache): Promise<void> {
  const target = join(repoPath, FILE);
  const temp = `${target}.${crypto.randomUUID()}.tmp`;
  try {
    const compressed = new Blob([JSON.stringify(cache)]).stream()
      .pipeThrough(new CompressionStream("deflate"));
    await Deno.writeFile(temp, compressed);
    const identity = identityOf(await Deno.stat(temp));
    await Deno.rename(temp, target);
    remember(repoPath, identity, cache);
  } catch {
    await Deno.remove(temp).catch(() => {});
    // A cache that cannot be written only costs time.
  }
}

/** The key of the attributes in force: every `.gitattributes` blob and `info/attributes`. */
export async function attributesKey(
  repoPath: string,
  attributeFiles: { name: string; oid: string }[],
): Promise<string> {
  const info = await Deno.readFile(join(repoPath, "info", "attributes")).catch(() => null);
  const infoHash = info
    ? [...new Uint8Array(await crypto.subtle.digest("SHA-256", info))]
      .map((b) => b.toString(16).padStart(2, "0")).join("")
    : "";
  const files = attributeFiles.map((f) => `${f.name}\0${f.oid}`).sort().join("\0");
  return `${files}\0${infoHash}`;
}
