/**
 * `LinkRepositoryToObjectPool`: makes a repository borrow objects from a
 * pool by writing the pool's object directory, relative to the member's,
 * into `objects/info/alternates` (atomically); the member's own bitmaps
 * go when the pool has some, so git does not warn about two. Linking
 * twice is fine; a member of another pool is refused.
 *
 * @module
 */
import { join } from "node:path";
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { readDirOrEmpty } from "../shared/storage.ts";
import { alternatesEntry, locatePool } from "./pool.ts";

/** Builds the handler. */
export function linkRepositoryToObjectPool(
  deps: ServiceDeps,
): Rpc<"gitaly.ObjectPoolService", "LinkRepositoryToObjectPool"> {
  return unary(async (req) => {
    const memberPath = await deps.locator.repoPath(req.repository);
    const pool = await locatePool(deps, req.object_pool);
    const entry = alternatesEntry(memberPath, pool);
    const alternates = join(memberPath, "objects", "info", "alternates");
    const current = await Deno.readTextFile(alternates).catch(() => undefined);
    const first = current?.split("\n")[0];
    if (first !== undefined && first !== "" && !first.startsWith("#")) {
      if (first === entry) return {};
      if (
        join(memberPath, "objects", first) !== join(pool.path, "objects") &&
        first !== join(pool.path, "objects")
      ) {
        throw internal(`unexpected alternates content: ${JSON.stringify(first)}`);
      }
    }
    await Deno.mkdir(join(memberPath, "objects", "info"), { recursive: true });
    const staged = `${alternates}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(staged, entry);
    await Deno.rename(staged, alternates);
    if ((await bitmaps(pool.path)).length > 0) {
      for (const bitmap of await bitmaps(memberPath)) await Deno.remove(bitmap).catch(() => {});
    }
    return {};
  });
}

async function bitmaps(repoPath: string): Promise<string[]> {
  const packDir = join(repoPath, "objects", "pack");
  const out: string[] = [];
  for await (const entry of readDirOrEmpty(packDir)) {
    if (entry.name.startsWith("pack-") && entry.name.endsWith(".bitmap")) {
      out.push(join(packDir, entry.name));
    }
  }
  return out;
}
