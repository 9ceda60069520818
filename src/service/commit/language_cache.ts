/**
 * The per-repository cache of CommitLanguages, as Gitaly keeps one: the
 * totals of the last commit asked for, and for each file its blob id and
 * what it counted for, so the next commit only reads the blobs that
 * changed. Kept zlib-compressed in `deno-gitaly-language.stats` in the
 * repository (a name of our own: Gitaly's file has another format). A
 * change of any `.gitattributes` file or of `info/attributes` drops the
 * per-file part.
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

/** The cache of `repoPath`, or null when there is none or it is unreadable. */
export async function loadLanguageCache(repoPath: string): Promise<LanguageCache | null> {
  try {
    const file = await Deno.open(join(repoPath, FILE));
    const text = await new Response(
      file.readable.pipeThrough(new DecompressionStream("deflate")),
    ).text();
    const cache = JSON.parse(text) as LanguageCache;
    return cache.version === 1 && typeof cache.commitId === "string" ? cache : null;
  } catch {
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
    await Deno.rename(temp, target);
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
