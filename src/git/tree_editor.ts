/**
 * An editable tree, as Gitaly's `localrepo.TreeEntry` edits one for the
 * operations that build commits without a worktree (UserCommitFiles,
 * UserUpdateSubmodule): entries are added, deleted, looked up and modified
 * by path in memory, then every changed tree is written bottom-up.
 *
 * Gitaly's walk has quirks that change which tree comes out, and the
 * commit ids must match Gitaly's, so they are kept on purpose:
 *
 * - adding `a/b/a` where `a` is missing puts the new entry at the first
 *   missing level whose name equals the path's last component (here the
 *   root gets a file `a`);
 * - a walk passes through blobs as if they were trees (the tree written
 *   then is malformed, and writing it fails as git's check does);
 * - a moved file loses its type, so moving it again in the same edit finds
 *   no file;
 * - a tree that became empty is dropped from its parent (and an empty root
 *   is the empty tree), while a tree that was empty before stays.
 *
 * Trees are read lazily, one object per level walked, instead of listing
 * the whole tree recursively as Gitaly does; the outcome is the same.
 *
 * Paths and names are byte strings held in "binary" strings (one char per
 * byte, see {@link binaryString}), so Go's byte-wise path functions can be
 * mirrored exactly.
 *
 * @module
 */
import type { TreeObjectEntry } from "./tree.ts";

/** What a tree entry points to; a moved entry is `unknown` (Gitaly leaves its type unset). */
export type EditableType = "tree" | "blob" | "commit" | "unknown";

/** One node of an editable tree. */
export interface EditableEntry {
  /** Object id; `""` while the tree must still be written. */
  oid: string;
  /** Mode as `ls-tree` prints it (`100644`, `040000`, ...). */
  mode: string;
  /** The entry's name, a binary string. */
  name: string;
  type: EditableType;
  /** A tree's entries; undefined until read. */
  entries?: EditableEntry[];
}

/** How the editor reads and writes tree objects. */
export interface TreeStore {
  /** The entries of the tree `oid`; null when it is no tree. */
  read(oid: string): Promise<TreeObjectEntry[] | null>;
  /** Writes a tree object's content; returns its id. */
  write(content: Uint8Array): Promise<string>;
}

/** Why a path edit failed, in Gitaly's `localrepo` error kinds. */
export type TreeEditErrorKind =
  | "entry-not-found"
  | "entry-exists"
  | "path-traversal"
  | "absolute-path"
  | "empty-path"
  | "disallowed-path";

const EDIT_MESSAGES: Record<TreeEditErrorKind, string> = {
  "entry-not-found": "entry not found",
  "entry-exists": "entry already exists",
  "path-traversal": "path contains traversal",
  "absolute-path": "path is absolute",
  "empty-path": "path is empty",
  "disallowed-path": "disallowed path",
};

/** A path edit failed (Gitaly's `localrepo.Err*` sentinel errors). */
export class TreeEditError extends Error {
  /** Builds the error of `kind`. */
  constructor(readonly kind: TreeEditErrorKind) {
    super(EDIT_MESSAGES[kind]);
    this.name = "TreeEditError";
  }
}

/** Writing a tree failed: git refused its content (`exit status 128`, as Gitaly words it). */
export class TreeWriteError extends Error {
  /** Builds the error; `message` is what Gitaly says after `writing tree: `. */
  constructor(message: string) {
    super(`writing tree: ${message}`);
    this.name = "TreeWriteError";
  }
}

/** Options of {@link TreeEditor.add} (Gitaly's `WithOverwriteFile`/`WithOverwriteDirectory`). */
export interface AddOptions {
  overwriteFile?: boolean;
  overwriteDir?: boolean;
}

/** The bytes of a binary string. */
export function bytesOfBinary(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Bytes as a binary string: one char (U+0000..U+00FF) per byte. */
export function binaryString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/** Go's `filepath.Clean` for `/`-separated paths. */
export function cleanPath(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** Go's `filepath.Join` of two clean parts, `dir` possibly empty. */
function joinPath(dir: string, name: string): string {
  return dir === "" ? cleanPath(name) : cleanPath(`${dir}/${name}`);
}

/** Go's `filepath.Base`. */
export function basePath(path: string): string {
  if (path === "") return ".";
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function cut(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

/** Gitaly's `validateFileCreationPath`: the cleaned path, or the reason it is refused. */
export function validateCreationPath(path: string): string {
  const cleaned = cleanPath(path);
  if (cleaned.startsWith("/")) throw new TreeEditError("absolute-path");
  if (cleaned.startsWith("..")) throw new TreeEditError("path-traversal");
  if (cleaned === ".") throw new TreeEditError("empty-path");
  if (cut(cleaned, "/")[0] === ".git") throw new TreeEditError("disallowed-path");
  return cleaned;
}

/** `ls-tree`'s mode and type of a raw tree entry (git canonicalizes modes when reading). */
function canonicalEntry(entry: TreeObjectEntry): { mode: string; type: EditableType } {
  const raw = parseInt(entry.mode, 8);
  let mode: number;
  let type: EditableType = "blob";
  switch (raw & 0o170000) {
    case 0o100000:
      mode = raw & 0o100 ? 0o100755 : 0o100644;
      break;
    case 0o120000:
      mode = 0o120000;
      break;
    case 0o040000:
      mode = 0o040000;
      type = "tree";
      break;
    default:
      mode = 0o160000;
      type = "commit";
  }
  return { mode: mode.toString(8).padStart(6, "0"), type };
}

/** Git's path ordering within a tree: a tree sorts as if its name ended in `/`. */
function sortKey(entry: EditableEntry): string {
  return entry.type === "tree" ? entry.name + "/" : entry.name;
}

const IGNORABLE_HFS =
  /\u00e2\u0080[\u008c-\u008f\u00aa-\u00ae]|\u00e2\u0081[\u00aa-\u00af]|\u00ef\u00bb\u00bf/g;

/**
 * Whether git's object check (`hash-object`'s fsck in strict mode) refuses
 * a tree entry called `name` with `mode`: `.`, `..`, an empty name, `.git`
 * in any spelling a case-insensitive, NTFS or HFS+ file system would read as
 * `.git`, or a `.gitmodules` symlink.
 */
function refusedByFsck(name: string, mode: string): boolean {
  if (name === "" || name === "." || name === ".." || name.includes("/")) return true;
  const folded = name.replace(IGNORABLE_HFS, "").toLowerCase();
  if (folded === ".git" || /^(\.git|git~1)[. ]*(:.*)?$/i.test(name)) return true;
  return mode === "120000" &&
    (folded === ".gitmodules" || /^(\.gitmodules|gitmod~1)[. ]*$/i.test(name));
}

const HEX_PAIR = /^[0-9a-f]*$/;

function oidBytes(oid: string): Uint8Array {
  if (!HEX_PAIR.test(oid) || oid.length % 2 !== 0) {
    throw new TreeWriteError("encoding/hex: invalid byte");
  }
  const out = new Uint8Array(oid.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(oid.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * An editable tree rooted at `rootOid` (empty for a repository without
 * commits). Edit with {@link add}, {@link remove}, {@link get} and
 * {@link modify}, then {@link write}.
 */
export class TreeEditor {
  /** The root tree node. */
  readonly root: EditableEntry;

  /** Edits the tree `rootOid`, or a new empty tree when undefined. */
  constructor(private readonly store: TreeStore, rootOid?: string) {
    this.root = rootOid
      ? { oid: rootOid, mode: "040000", name: "", type: "tree" }
      : { oid: "", mode: "040000", name: "", type: "tree", entries: [] };
  }

  /** A node's entries, reading a tree the first time; a non-tree has none. */
  async entries(node: EditableEntry): Promise<EditableEntry[]> {
    if (node.entries) return node.entries;
    if (node.type !== "tree" || node.oid === "") return node.entries = [];
    const entries = await this.store.read(node.oid);
    if (!entries) throw new Error(`reading tree ${node.oid}: not a tree`);
    return node.entries = entries.map((entry) => ({
      oid: entry.oid,
      name: binaryString(entry.name),
      ...canonicalEntry(entry),
    }));
  }

  /**
   * Adds `entry` at `path` (Gitaly's `TreeEntry.Add`): missing trees on the
   * way are created; an existing entry is replaced only if the options
   * allow it, else `entry-exists`.
   */
  async add(path: string, entry: EditableEntry, options: AddOptions = {}): Promise<void> {
    const target = validateCreationPath(path);
    const base = basePath(target);
    let rest = target;
    let parentDirs = "";
    let current = this.root;
    walk: while (true) {
      let first: string;
      [first, rest] = cut(rest, "/");
      const entries = await this.entries(current);
      for (let i = 0; i < entries.length; i++) {
        const existing = entries[i];
        if (existing.name !== first) continue;
        if (joinPath(parentDirs, existing.name) === target) {
          if (
            (existing.type === "tree" && !options.overwriteDir) ||
            (existing.type === "blob" && !options.overwriteFile)
          ) {
            throw new TreeEditError("entry-exists");
          }
          current.oid = "";
          entries[i] = entry;
          return;
        }
        current.oid = "";
        current = existing;
        parentDirs = joinPath(parentDirs, existing.name);
        continue walk;
      }
      if (first === base) {
        current.oid = "";
        entries.push(entry);
        return;
      }
      const tree: EditableEntry = {
        oid: "",
        mode: "040000",
        name: first,
        type: "tree",
        entries: [],
      };
      entries.push(tree);
      current.oid = "";
      current = tree;
      if (rest === "") return;
    }
  }

  /**
   * Walks to `path` (Gitaly's `TreeEntry.recurse`): `onEntry` gets the
   * entry's tree, the entry and its index; `onTree` each tree passed on the
   * way. A path that is not there is `entry-not-found`.
   */
  async #recurse(
    path: string,
    onEntry: (tree: EditableEntry, entry: EditableEntry, index: number) => Promise<void> | void,
    onTree: (tree: EditableEntry) => void,
  ): Promise<void> {
    let rest = path;
    let parentDirs = "";
    let current = this.root;
    while (true) {
      let first: string;
      [first, rest] = cut(rest, "/");
      const entries = await this.entries(current);
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i];
        if (entry.name !== first) continue;
        if (joinPath(parentDirs, entry.name) === path) {
          current.oid = "";
          return await onEntry(current, entry, i);
        }
        onTree(current);
        current = entry;
        parentDirs = joinPath(parentDirs, entry.name);
      }
      if (rest === "") throw new TreeEditError("entry-not-found");
    }
  }

  /** Removes the entry at `path` (Gitaly's `TreeEntry.Delete`). */
  async remove(path: string): Promise<void> {
    const target = validateCreationPath(path);
    await this.#recurse(target, (tree, _entry, index) => {
      tree.entries!.splice(index, 1);
    }, (tree) => tree.oid = "");
  }

  /** The entry at `path`, which is not cleaned (Gitaly's `TreeEntry.Get`). */
  async get(path: string): Promise<EditableEntry> {
    if (path === "" || path === ".") return this.root;
    let found: EditableEntry | undefined;
    await this.#recurse(path, (_tree, entry) => {
      found = entry;
    }, () => {});
    return found!;
  }

  /** Changes the entry at `path` in place with `change` (Gitaly's `TreeEntry.Modify`). */
  async modify(path: string, change: (entry: EditableEntry) => void): Promise<void> {
    const target = validateCreationPath(path);
    await this.#recurse(target, async (_tree, entry) => {
      // A tree keeps its entries even when its id is replaced.
      await this.entries(entry);
      change(entry);
    }, (tree) => tree.oid = "");
  }

  /**
   * Writes every tree whose id was cleared, children first (Gitaly's
   * `TreeEntry.Write`), dropping trees that ended up empty; returns the
   * root tree's id, or undefined when the root is empty.
   */
  async write(): Promise<string | undefined> {
    await this.#write(this.root);
    return this.root.oid || undefined;
  }

  async #write(node: EditableEntry): Promise<void> {
    if (node.oid !== "") return;
    const entries = node.entries ?? [];
    for (const entry of entries) {
      if (entry.type === "tree" && entry.oid === "") await this.#write(entry);
    }
    node.entries = entries.filter((entry) => !(entry.type === "tree" && entry.oid === ""));
    if (node.entries.length === 0) return;
    node.oid = await this.store.write(this.#serialize(node.entries));
  }

  /** The tree object's content, entries in git's order; throws where git would refuse it. */
  #serialize(entries: EditableEntry[]): Uint8Array {
    const sorted = entries
      .map((entry, index) => ({ entry, index, key: sortKey(entry) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
    entries.splice(0, entries.length, ...sorted.map((s) => s.entry));
    const parts: Uint8Array[] = [];
    let size = 0;
    let refused = false;
    for (const entry of entries) {
      const mode = entry.mode.replace(/^0/, "");
      const head = bytesOfBinary(`${mode} ${entry.name}\0`);
      const oid = oidBytes(entry.oid);
      if (oid.length === 0 || refusedByFsck(entry.name, entry.mode)) refused = true;
      parts.push(head, oid);
      size += head.length + oid.length;
    }
    // git (2.40 and later, as Gitaly runs it) checks a tree before writing it.
    if (refused) throw new TreeWriteError("exit status 128");
    const out = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
