import { join } from "node:path";
import { assert, assertEquals } from "../../helpers/assert.ts";
import {
  type LanguageCache,
  loadLanguageCache,
  saveLanguageCache,
} from "../../../src/service/commit/language_cache.ts";

const FILE = "deno-gitaly-language.stats";

function cacheOf(commitId: string, totals: Record<string, number>): LanguageCache {
  return { version: 1, commitId, attributesKey: "", files: {}, totals };
}

/** Writes a cache file as another process would (not through this process's memory). */
async function writeFromElsewhere(repoPath: string, cache: LanguageCache): Promise<void> {
  const compressed = new Blob([JSON.stringify(cache)]).stream()
    .pipeThrough(new CompressionStream("deflate"));
  const temp = join(repoPath, "elsewhere.tmp");
  await Deno.writeFile(temp, compressed);
  await Deno.rename(temp, join(repoPath, FILE));
}

Deno.test("language cache: kept in memory while its file stays, reread once it changes", async () => {
  const repoPath = await Deno.makeTempDir({ prefix: "language-cache-" });
  try {
    assertEquals(await loadLanguageCache(repoPath), null);
    const saved = cacheOf("a".repeat(40), { Go: 10 });
    await saveLanguageCache(repoPath, saved);
    const first = await loadLanguageCache(repoPath);
    assert(first === saved, "the saved cache comes from memory");
    assert(await loadLanguageCache(repoPath) === saved);

    // Replaced by another process (same size): read again.
    await writeFromElsewhere(repoPath, cacheOf("b".repeat(40), { Go: 20 }));
    const replaced = await loadLanguageCache(repoPath);
    assertEquals(replaced?.commitId, "b".repeat(40));
    assertEquals(replaced?.totals, { Go: 20 });
    assert(await loadLanguageCache(repoPath) === replaced);

    // Broken or gone: no cache, and nothing stale from memory.
    await Deno.writeTextFile(join(repoPath, FILE), "not deflate");
    assertEquals(await loadLanguageCache(repoPath), null);
    await Deno.remove(join(repoPath, FILE));
    assertEquals(await loadLanguageCache(repoPath), null);
  } finally {
    await Deno.remove(repoPath, { recursive: true });
  }
});
