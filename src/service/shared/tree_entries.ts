/**
 * Finding the tree entry at `revision:path`, as Gitaly's `TreeEntryFinder`
 * does: read the entries of the path's directory (cached per request, so
 * siblings cost one read) and pick the one whose path is exactly `path`.
 * Paths are bytes; here they travel as binary strings (one char a byte).
 *
 * @module
 */
import type { CatfileCache } from "../../git/catfile.ts";
import { invalidArgument } from "../../server/errors.ts";
import { discardContent, readContent } from "./object_content.ts";

/** One entry of a tree. */
export interface TreeEntry {
  /** Its full path from the root tree (binary string). */
  path: string;
  /** The tree's mode bits, e.g. 0o100644. */
  mode: number;
  oid: string;
  /** From the mode: a gitlink is a `commit`, a directory a `tree`, anything else a `blob`. */
  type: "blob" | "tree" | "commit";
}

/** Bytes to a binary string (one char per byte). */
export function binaryString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.byteLength; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** A binary string back to bytes. */
export function binaryBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Go's `path.Clean`: the shortest equivalent slash-separated path. */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!rooted) parts.push("..");
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** Go's `path.Dir`: everything before the last slash, cleaned. */
export function dirPath(path: string): string {
  return cleanPath(path.slice(0, path.lastIndexOf("/") + 1));
}

/** Reads tree entries through the cat-file cache, caching directories for one request. */
export class TreeEntryFinder {
  #cache = new Map<string, TreeEntry[] | null>();

  constructor(
    readonly catfile: CatfileCache,
    readonly repoPath: string,
    readonly options: { env?: Record<string, string>; signal?: AbortSignal } = {},
  ) {}

  /** The entry at `path` (binary string) in `revision`'s tree, or null. */
  async find(revision: string, path: string): Promise<TreeEntry | null> {
    const dir = dirPath(path);
    const key = `${revision}\0${dir}`;
    let entries = this.#cache.get(key);
    if (entries === undefined) {
      entries = await this.entries(revision, dir);
      this.#cache.set(key, entries);
    }
    return entries?.find((entry) => entry.path === path) ?? null;
  }

  /** The entries of the tree at `revision:dir`, or null when there is no such tree. */
  async entries(revision: string, dir: string): Promise<TreeEntry[] | null> {
    const root = dir === "." ? "" : dir;
    // git dies on paths outside the tree rather than answering "missing".
    if (cleanPath(root).startsWith("../")) return null;
    if (root.includes("\0")) {
      throw invalidArgument("find by revision and path: revision must not contain NUL bytes");
    }
    // cat-file reads one revision a line: a path with a newline names nothing.
    if (revision.includes("\n") || root.includes("\n")) return null;
    const rootTree = await this.catfile.info(this.repoPath, `${revision}^{tree}`, this.options);
    if (rootTree === null) return null;
    const spec = binaryBytes(`${revision}:${root}`);
    const tree = await this.catfile.object(this.repoPath, spec, this.options);
    if (tree === null) return null;
    if (tree.type !== "tree") {
      await discardContent(tree, this.options.signal);
      return null;
    }
    const content = await readContent(tree, this.options.signal);
    return parseTree(content, root, rootTree.oid.length / 2);
  }
}

const MODE_TYPE: Record<number, TreeEntry["type"]> = { 0o040000: "tree", 0o160000: "commit" };

/** Parses a tree object's content; entry paths are joined onto `root`. */
export function parseTree(content: Uint8Array, root: string, oidBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < content.byteLength) {
    const space = content.indexOf(0x20, offset);
    const nul = space < 0 ? -1 : content.indexOf(0, space + 1);
    if (space <= offset || nul < 0 || nul + 1 + oidBytes > content.byteLength) {
      throw new Error("parsing tree: malformed entry");
    }
    const mode = parseInt(binaryString(content.subarray(offset, space)), 8);
    const name = binaryString(content.subarray(space + 1, nul));
    let oid = "";
    for (const byte of content.subarray(nul + 1, nul + 1 + oidBytes)) {
      oid += byte.toString(16).padStart(2, "0");
    }
    entries.push({
      path: root === "" ? name : `${root}/${name}`,
      mode,
      oid,
      type: MODE_TYPE[mode & 0o170000] ?? "blob",
    });
    offset = nul + 1 + oidBytes;
  }
  return entries;
}
