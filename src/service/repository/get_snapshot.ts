/**
 * `GetSnapshot`: a tar of the files that make up a repository's refs and
 * objects, picked by name so that even a damaged repository can be copied.
 * Left out on purpose, as in Gitaly: config (may hold credentials), hooks
 * and custom hooks, info/, logs/, objects/info/ and everything else a fetch
 * would not replicate. Objects borrowed through alternates inside the
 * storage are included as if they were the repository's own.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { entryFor, type TarEntry, tarStream } from "./tar_writer.ts";

/** Loose objects and packfiles (SHA-1 and SHA-256), relative to `objects/`. */
const OBJECT_FILES = [
  /^[0-9a-f]{2}\/([0-9a-f]{38}|[0-9a-f]{62})$/,
  /^pack\/pack-([0-9a-f]{40}|[0-9a-f]{64})\.(pack|idx)$/,
];

/** Builds the handler. */
export function getSnapshot(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "GetSnapshot"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const storagePath = deps.locator.storagePath(req.repository!.storage_name);
    const archive = tarStream(snapshotEntries(storagePath, repoPath));
    for await (const data of chunkStream(archive, { signal: ctx.signal })) await send({ data });
  });
}

/** The members of a repository snapshot, in archive order. */
export async function* snapshotEntries(
  storagePath: string,
  repoPath: string,
): AsyncGenerator<TarEntry> {
  for (const name of ["HEAD", "packed-refs"]) yield* fileIfExists(repoPath, name);
  yield* walk({ root: repoPath, dir: "refs", as: "refs" });
  yield* walk({ root: repoPath, dir: "branches", as: "branches" });
  yield* walk({ root: repoPath, dir: "objects", as: "objects", keep: isObjectFile });
  yield* fileIfExists(repoPath, "shallow");
  for (const alternate of await alternateObjectDirs(storagePath, repoPath)) {
    yield* walk({ root: alternate, dir: "", as: "objects", keep: isObjectFile });
  }
}

async function* fileIfExists(root: string, name: string): AsyncGenerator<TarEntry> {
  const entry = await entryFor(join(root, name), name);
  if (entry?.type === "file") yield entry;
}

/** A directory to archive recursively. */
interface WalkSpec {
  root: string;
  /** Directory below `root` ("" for root itself). */
  dir: string;
  /** Its name in the archive. */
  as: string;
  /** Only files it accepts (path relative to `dir`) are archived, and no directories. */
  keep?: (relativePath: string) => boolean;
}

/** Entries below `root/dir` in name order: directories first-visited, then their files. */
async function* walk(spec: WalkSpec, below = ""): AsyncGenerator<TarEntry> {
  const path = join(spec.root, spec.dir, below);
  const name = below ? `${spec.as}/${below}` : spec.as;
  const self = await entryFor(path, name);
  if (self?.type !== "directory") return;
  if (!spec.keep) yield self;
  let children: Deno.DirEntry[];
  try {
    children = await Array.fromAsync(Deno.readDir(path));
  } catch {
    return; // vanished meanwhile
  }
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const childBelow = below ? `${below}/${child.name}` : child.name;
    if (child.isDirectory) {
      yield* walk(spec, childBelow);
    } else if (child.isFile && (!spec.keep || spec.keep(childBelow))) {
      const entry = await entryFor(join(path, child.name), `${name}/${child.name}`);
      if (entry) yield entry;
    }
  }
}

function isObjectFile(relativePath: string): boolean {
  return OBJECT_FILES.some((pattern) => pattern.test(relativePath));
}

/**
 * The object directories listed in `objects/info/alternates` that lie
 * inside the storage (others are not ours to hand out).
 */
async function alternateObjectDirs(storagePath: string, repoPath: string): Promise<string[]> {
  const objectsDir = join(repoPath, "objects");
  let text: string;
  try {
    text = await Deno.readTextFile(join(objectsDir, "info", "alternates"));
  } catch {
    return [];
  }
  return text.split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => (isAbsolute(line) ? line : resolve(objectsDir, line)))
    .filter((dir) => {
      const rel = relative(storagePath, dir);
      return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) && !rel.includes(`..${sep}`);
    })
    .filter((dir) => dirname(dir) !== dir);
}
