/**
 * The pack-objects cache on its own: identical requests arriving together
 * share one producer run and get the same bytes.
 */
import { assertEquals } from "../../helpers/assert.ts";
import { PackObjectsCache } from "../../../src/service/hooks/pack_objects_cache.ts";

Deno.test("pack-objects cache: requests arriving at once share one run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pack-cache-unit-" });
  const cache = new PackObjectsCache({
    enabled: true,
    dir: `${dir}/cache`,
    maxAgeMs: 60_000,
    minOccurrences: 1,
  });
  try {
    let runs = 0;
    const produce = async (write: (chunk: Uint8Array) => Promise<void>) => {
      runs++;
      for (let i = 0; i < 4; i++) {
        await write(new Uint8Array(1000).fill(i));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const fetch = async () => {
      const parts: number[] = [];
      const result = await cache.fetch(
        "key",
        (chunk) => {
          parts.push(...chunk);
          return Promise.resolve();
        },
        produce,
        new AbortController().signal,
      );
      return { ...result, parts };
    };
    const first = await fetch(); // the first occurrence: not cached
    assertEquals([first.created, first.served, runs], [true, 4000, 1]);
    const results = await Promise.all(Array.from({ length: 10 }, fetch));
    assertEquals(runs, 2);
    assertEquals(results.filter((r) => r.created).length, 1);
    for (const result of results) assertEquals(result.parts, first.parts);
  } finally {
    await cache.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
