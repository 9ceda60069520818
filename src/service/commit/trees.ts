/**
 * What the tree RPCs of CommitService share: request paths as Gitaly
 * reads them, and `gitaly.TreeEntry` messages built from tree records.
 *
 * @module
 */
import { entryKind, joinPath, type TreeObjectEntry } from "../../git/tree.ts";
import { type TreeEntry, TreeEntry_EntryType } from "../../proto/types.ts";
import type { Init } from "../../proto/types.ts";

const SLASH = 0x2f;
const DOT = 0x2e;

/** The request path without trailing slashes (a lone `/` stays). */
export function trimTrailingSlashes(path: Uint8Array): Uint8Array {
  let end = path.byteLength;
  if (end <= 1) return path;
  while (end > 0 && path[end - 1] === SLASH) end--;
  return path.subarray(0, end);
}

/**
 * Whether `path` is a clean relative path: no leading `/`, no empty, `.`
 * or `..` components. Gitaly finds tree entries only by such paths.
 */
export function isCleanPath(path: Uint8Array): boolean {
  if (path.byteLength === 0) return false;
  let start = 0;
  for (let i = 0; i <= path.byteLength; i++) {
    if (i < path.byteLength && path[i] !== SLASH) continue;
    const length = i - start;
    if (length === 0) return false;
    if (length === 1 && path[start] === DOT) return false;
    if (length === 2 && path[start] === DOT && path[start + 1] === DOT) return false;
    start = i + 1;
  }
  return true;
}

/** Whether `path` is `.` (the root, in Gitaly's tree listings). */
export function isDot(path: Uint8Array): boolean {
  return path.byteLength === 1 && path[0] === DOT;
}

/** The `gitaly.TreeEntry` type of a mode. */
export function treeEntryType(mode: string): TreeEntry_EntryType {
  switch (entryKind(mode)) {
    case "tree":
      return TreeEntry_EntryType.TREE;
    case "commit":
      return TreeEntry_EntryType.COMMIT;
    default:
      return TreeEntry_EntryType.BLOB;
  }
}

/** A `gitaly.TreeEntry` for `entry` of the tree at `dir`, listed for `revision`. */
export function treeEntryMessage(
  revision: string,
  dir: Uint8Array,
  entry: TreeObjectEntry,
): Init<TreeEntry> & { path: Uint8Array; oid: string; type: TreeEntry_EntryType } {
  return {
    oid: entry.oid,
    path: joinPath(dir, entry.name),
    type: treeEntryType(entry.mode),
    mode: parseInt(entry.mode, 8),
    commit_oid: revision,
  };
}

/**
 * Whether a path leaves the repository root, as Go's `!filepath.IsLocal`
 * decides: absolute, empty, or climbing above the root with `..`.
 */
export function escapesRoot(path: string): boolean {
  if (path === "" || path.startsWith("/")) return true;
  let depth = 0;
  for (const part of path.split("/")) {
    if (part === "..") {
      if (--depth < 0) return true;
    } else if (part !== "" && part !== ".") {
      depth++;
    }
  }
  return false;
}
