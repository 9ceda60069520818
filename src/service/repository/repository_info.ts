/**
 * `RepositoryInfo`: a repository's size in bytes, with references (loose
 * count, packed-refs size) and objects (loose and packed; recent, stale and
 * kept) broken down.
 *
 * @module
 */
import { join } from "node:path";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { directorySize, readDirOrEmpty } from "../shared/storage.ts";

/** Builds the handler. */
export function repositoryInfo(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "RepositoryInfo"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const [size, references, objects] = await Promise.all([
      directorySize(repoPath),
      referencesInfo(repoPath),
      objectsInfo(join(repoPath, "objects")),
    ]);
    return { size, references, objects };
  });
}

async function referencesInfo(repoPath: string) {
  const packedSize = await Deno.stat(join(repoPath, "packed-refs")).then((s) => s.size, () => 0);
  return { loose_count: await countFiles(join(repoPath, "refs")), packed_size: packedSize };
}

/** Loose objects and packfiles; cruft packs are stale, `.keep`-marked packs are kept. */
async function objectsInfo(objectsPath: string) {
  let loose = 0;
  for await (const entry of readDirOrEmpty(objectsPath)) {
    if (entry.isDirectory && /^[0-9a-f]{2}$/.test(entry.name)) {
      loose += await directorySize(join(objectsPath, entry.name));
    }
  }
  const packs = await packfileSizes(join(objectsPath, "pack"));
  return {
    size: loose + packs.total,
    recent_size: loose + packs.total - packs.cruft,
    stale_size: packs.cruft,
    keep_size: packs.keep,
  };
}

async function packfileSizes(packDir: string) {
  const names = new Set<string>();
  for await (const entry of readDirOrEmpty(packDir)) names.add(entry.name);
  const sizes = { total: 0, cruft: 0, keep: 0 };
  for (const name of names) {
    if (!name.endsWith(".pack")) continue;
    const size = await Deno.stat(join(packDir, name)).then((s) => s.size, () => 0);
    const base = name.slice(0, -".pack".length);
    sizes.total += size;
    if (names.has(`${base}.mtimes`)) sizes.cruft += size;
    if (names.has(`${base}.keep`)) sizes.keep += size;
  }
  return sizes;
}

async function countFiles(path: string): Promise<number> {
  let count = 0;
  for await (const entry of readDirOrEmpty(path)) {
    if (entry.isDirectory) count += await countFiles(join(path, entry.name));
    else if (entry.isFile) count++;
  }
  return count;
}
