/**
 * Git trees: the binary tree object format (as `cat-file` prints a tree's
 * content), `ls-tree -z` records, and walking a path through trees by
 * object id, so paths stay bytes (any byte but NUL and `/`) and never pass
 * through a `rev:path` string.
 *
 * A tree object is a sequence of `<octal mode> SP <name> NUL <raw oid>`
 * records; `ls-tree -z` prints `<mode> SP <type> SP <hex oid> TAB <path> NUL`.
 *
 * @module
 */
import type { CatfileCache } from "./catfile.ts";
import { concatBytes } from "./command.ts";

/** What a tree entry points to, from its mode. */
export type TreeEntryKind = "blob" | "tree" | "commit";

/** One record of a tree object. */
export interface TreeObjectEntry {
  /** The mode as git wrote it, e.g. `100644`, `40000`, `160000`. */
  mode: string;
  /** The entry's name (bytes; no `/`, no NUL). */
  name: Uint8Array;
  /** Hex object id. */
  oid: string;
}

/** A record of `ls-tree -z`, with the path relative to where the listing started. */
export interface LsTreeEntry {
  mode: string;
  type: string;
  oid: string;
  path: Uint8Array;
}

const SPACE = 0x20;
const NUL = 0;
const TAB = 0x09;
const SLASH = 0x2f;
const decoder = new TextDecoder();

/** The kind of object a tree entry with `mode` points to. */
export function entryKind(mode: string | number): TreeEntryKind {
  const value = typeof mode === "number" ? mode : parseInt(mode, 8);
  switch (value & 0o170000) {
    case 0o040000:
      return "tree";
    case 0o160000:
      return "commit";
    default:
      return "blob";
  }
}

/** Where one entry of a raw tree lies: `mode` before `space`, the name up to `nul`, then the id. */
interface TreeRecord {
  at: number;
  space: number;
  nul: number;
}

/** The entries of a tree object's content, as offsets; throws on a malformed tree. */
function* treeRecords(content: Uint8Array, hashBytes: number): Generator<TreeRecord> {
  let at = 0;
  while (at < content.byteLength) {
    const space = content.indexOf(SPACE, at);
    if (space <= at) throw new Error("malformed tree object: no mode");
    const nul = content.indexOf(NUL, space + 1);
    if (nul <= space + 1) throw new Error("malformed tree object: no name");
    if (nul + 1 + hashBytes > content.byteLength) {
      throw new Error("malformed tree object: short oid");
    }
    yield { at, space, nul };
    at = nul + 1 + hashBytes;
  }
}

function decodeRecord(content: Uint8Array, r: TreeRecord, hashBytes: number): TreeObjectEntry {
  return {
    mode: decoder.decode(content.subarray(r.at, r.space)),
    name: content.slice(r.space + 1, r.nul),
    oid: toHex(content.subarray(r.nul + 1, r.nul + 1 + hashBytes)),
  };
}

/** Parses a tree object's content; `hashBytes` is 20 (SHA-1) or 32 (SHA-256). */
export function parseTree(content: Uint8Array, hashBytes = 20): TreeObjectEntry[] {
  return Array.from(treeRecords(content, hashBytes), (r) => decodeRecord(content, r, hashBytes));
}

/**
 * The entry called `name` in a raw tree object, or undefined; scans the
 * entries in place and decodes only the one that matches.
 */
export function findTreeEntry(
  content: Uint8Array,
  name: Uint8Array,
  hashBytes = 20,
): TreeObjectEntry | undefined {
  for (const r of treeRecords(content, hashBytes)) {
    if (
      r.nul - r.space - 1 === name.byteLength &&
      bytesEqual(content.subarray(r.space + 1, r.nul), name)
    ) {
      return decodeRecord(content, r, hashBytes);
    }
  }
  return undefined;
}

/**
 * Parses `ls-tree -z` output incrementally: feed chunks with {@link push},
 * take complete records as they are returned.
 */
export class LsTreeParser {
  #pending: Uint8Array = new Uint8Array(0);

  /** Adds a chunk; returns the records it completed. */
  push(chunk: Uint8Array): LsTreeEntry[] {
    const data = this.#pending.byteLength === 0 ? chunk : concatBytes([this.#pending, chunk]);
    const records: LsTreeEntry[] = [];
    let at = 0;
    while (true) {
      const nul = data.indexOf(NUL, at);
      if (nul < 0) break;
      records.push(parseLsTreeRecord(data.subarray(at, nul)));
      at = nul + 1;
    }
    this.#pending = data.slice(at);
    return records;
  }

  /** Throws when the output ended in the middle of a record. */
  end(): void {
    if (this.#pending.byteLength > 0) throw new Error("ls-tree output ended mid-record");
  }
}

function parseLsTreeRecord(record: Uint8Array): LsTreeEntry {
  const tab = record.indexOf(TAB);
  if (tab < 0) {
    throw new Error(`malformed ls-tree record: ${JSON.stringify(decoder.decode(record))}`);
  }
  const [mode, type, oid] = decoder.decode(record.subarray(0, tab)).split(" ");
  if (!mode || !type || !oid) {
    throw new Error(`malformed ls-tree record: ${JSON.stringify(decoder.decode(record))}`);
  }
  return { mode, type, oid, path: record.slice(tab + 1) };
}

/** The raw content of the tree `oid`; null when `oid` names no tree. */
async function readTreeObject(
  catfile: CatfileCache,
  repoPath: string,
  oid: string,
  signal?: AbortSignal,
  env?: Record<string, string>,
): Promise<Uint8Array | null> {
  const object = await catfile.object(repoPath, oid, { signal, env });
  if (!object) return null;
  if (object.type !== "tree") {
    await object.content.cancel();
    return null;
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of object.content) parts.push(chunk);
  return concatBytes(parts);
}

/**
 * Reads and parses the tree `oid`; null when there is no such object or it
 * is not a tree. `env` as for git (e.g. a quarantine's object directories).
 */
export async function readTree(
  catfile: CatfileCache,
  repoPath: string,
  oid: string,
  signal?: AbortSignal,
  env?: Record<string, string>,
): Promise<TreeObjectEntry[] | null> {
  const content = await readTreeObject(catfile, repoPath, oid, signal, env);
  return content && parseTree(content, oid.length / 2);
}

/**
 * The entry called `name` in the tree `oid`: undefined when there is none,
 * null when `oid` names no tree. Cheaper than {@link readTree} for one name.
 */
export async function readTreeEntry(
  catfile: CatfileCache,
  repoPath: string,
  oid: string,
  name: Uint8Array,
  signal?: AbortSignal,
): Promise<TreeObjectEntry | undefined | null> {
  const content = await readTreeObject(catfile, repoPath, oid, signal);
  return content && findTreeEntry(content, name, oid.length / 2);
}

/** The object a path names inside a tree, found by walking trees by id. */
export interface ResolvedPath {
  /** The entry's mode (`40000` for the root tree itself). */
  mode: string;
  oid: string;
  kind: TreeEntryKind;
}

/**
 * Walks `path` (`a/b/c`; empty components are skipped) down from the tree
 * `rootTree`; null when a component is missing or not a tree.
 */
export async function resolveTreePath(
  catfile: CatfileCache,
  repoPath: string,
  rootTree: string,
  path: Uint8Array,
  signal?: AbortSignal,
): Promise<ResolvedPath | null> {
  let current: ResolvedPath = { mode: "40000", oid: rootTree, kind: "tree" };
  for (const component of splitPath(path)) {
    if (current.kind !== "tree") return null;
    const entry = await readTreeEntry(catfile, repoPath, current.oid, component, signal);
    if (!entry) return null;
    current = { mode: entry.mode, oid: entry.oid, kind: entryKind(entry.mode) };
  }
  return current;
}

/** Splits a path at `/`, dropping empty components. */
export function splitPath(path: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.byteLength; i++) {
    if (i === path.byteLength || path[i] === SLASH) {
      if (i > start) parts.push(path.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** `dir/name`, or `name` when `dir` is empty. */
export function joinPath(dir: Uint8Array, name: Uint8Array): Uint8Array {
  if (dir.byteLength === 0) return name;
  const out = new Uint8Array(dir.byteLength + 1 + name.byteLength);
  out.set(dir);
  out[dir.byteLength] = SLASH;
  out.set(name, dir.byteLength + 1);
  return out;
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte];
  return out;
}
