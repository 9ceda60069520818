/**
 * Reading one reference straight from git's files backend, the way
 * `git show-ref --verify` resolves it, without starting git: the loose
 * file under the git directory (a symbolic ref followed up to git's five
 * levels), else the `packed-refs` line. A parsed `packed-refs` is kept per
 * repository while its file stays the same (inode, size, modification
 * time), within a total size bound.
 *
 * Anything this reader is not sure to read as git would (a name
 * `check_refname_format()` refuses, a symbolic link, unusual contents, a
 * path component that is a file, too many symbolic levels) is answered
 * {@link ASK_GIT}: the caller then runs git, so odd cases keep git's answer.
 *
 * @module
 */
import { join } from "node:path";
import { referenceProblem } from "./refname.ts";

/** The reader cannot decide; run git. */
export const ASK_GIT = Symbol("ask git");

/** A reference's object id, `null` when it does not exist, or {@link ASK_GIT}. */
export type RefLookup = string | null | typeof ASK_GIT;

/** Git's `SYMREF_MAXDEPTH`: ref files read at most for one name. */
const SYMREF_MAX_DEPTH = 5;
/** Total `packed-refs` bytes whose parsed form is kept. */
const CACHE_BYTES = 64 * 1024 * 1024;
/** A `packed-refs` larger than this is not parsed here. */
const MAX_PACKED_REFS_BYTES = 16 * 1024 * 1024;

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

interface PackedRefs {
  /** Inode, size and modification time of the file parsed. */
  key: string;
  bytes: number;
  /** Name → object id; undefined when the file could not be parsed. */
  refs?: Map<string, string>;
}

const packedCache = new Map<string, PackedRefs>();
let cachedBytes = 0;

/** Resolves `name` (a full reference name) in the repository at `gitDir`. */
export async function readRef(gitDir: string, name: string): Promise<RefLookup> {
  let current = name;
  for (let depth = 0; depth < SYMREF_MAX_DEPTH; depth++) {
    if (referenceProblem(current) !== undefined) return ASK_GIT;
    const loose = await readLoose(join(gitDir, current));
    if (loose === ASK_GIT) return ASK_GIT;
    if (loose === null) return await readPacked(gitDir, current);
    if (loose.startsWith("ref:")) {
      current = loose.slice("ref:".length).trim();
      continue;
    }
    const oid = loose.trimEnd();
    return OID.test(oid) ? oid : ASK_GIT;
  }
  return ASK_GIT;
}

/** The loose file's contents, null where there is none (or a directory), or ASK_GIT. */
async function readLoose(path: string): Promise<string | null | typeof ASK_GIT> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? null : ASK_GIT;
  }
  if (info.isDirectory) return null;
  if (!info.isFile) return ASK_GIT;
  try {
    return await Deno.readTextFile(path);
  } catch {
    return ASK_GIT; // replaced or removed under us: let git look
  }
}

async function readPacked(gitDir: string, name: string): Promise<RefLookup> {
  const path = join(gitDir, "packed-refs");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? null : ASK_GIT;
  }
  if (info.size > MAX_PACKED_REFS_BYTES) return ASK_GIT;
  const key = versionOf(info);
  let packed = packedCache.get(path);
  if (packed?.key !== key) {
    packed = await parsePackedFile(path);
    remember(path, packed);
  } else {
    packedCache.delete(path); // most recently used last
    packedCache.set(path, packed);
  }
  if (!packed.refs) return ASK_GIT;
  return packed.refs.get(name) ?? null;
}

/** What identifies one version of a file: inode, size and modification time. */
function versionOf(info: Deno.FileInfo): string {
  return `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

async function parsePackedFile(path: string): Promise<PackedRefs> {
  const file = await Deno.open(path);
  try {
    const info = await file.stat();
    const key = versionOf(info);
    const content = new TextDecoder().decode(await new Response(file.readable).arrayBuffer());
    return { key, bytes: info.size, refs: parsePackedRefs(content) };
  } catch {
    return { key: "", bytes: 0 };
  }
}

/** Parses `packed-refs` contents; undefined for a line git would not write. */
export function parsePackedRefs(content: string): Map<string, string> | undefined {
  const refs = new Map<string, string>();
  for (const line of content.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith("^")) continue;
    const space = line.indexOf(" ");
    const oid = line.slice(0, space);
    if (space < 0 || !OID.test(oid)) return undefined;
    refs.set(line.slice(space + 1), oid);
  }
  return refs;
}

function remember(path: string, packed: PackedRefs): void {
  const old = packedCache.get(path);
  if (old) {
    cachedBytes -= old.bytes;
    packedCache.delete(path);
  }
  packedCache.set(path, packed);
  cachedBytes += packed.bytes;
  for (const [oldest, entry] of packedCache) {
    if (cachedBytes <= CACHE_BYTES || oldest === path) break;
    packedCache.delete(oldest);
    cachedBytes -= entry.bytes;
  }
}
