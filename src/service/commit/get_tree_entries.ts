/**
 * `GetTreeEntries`: the entries of the tree at `path` in `revision`, or
 * with `recursive` every entry below it (trees included, in `ls-tree -r
 * -t` order); `sort` TREES_FIRST orders trees, then blobs, then
 * submodules; `pagination_params` pages by entry path (Gitaly's page
 * tokens: base64 of `{"file_name": …}`, or a bare object id of old);
 * unless `recursive` or `skip_flat_paths`, each tree gets its flat path
 * (the first descendant that is not a tree holding just one tree). Batched
 * by message size as Gitaly does; the cursor rides on the first message.
 *
 * @module
 */
import { LsTreeParser, readTree, resolveTreePath, splitPath } from "../../git/tree.ts";
import { joinPath } from "../../git/tree.ts";
import { validateRevision } from "../../git/revision.ts";
import {
  GetTreeEntriesRequest_SortBy,
  type Init,
  PathError_ErrorType,
  type TreeEntry,
  TreeEntry_EntryType,
} from "../../proto/types.ts";
import { internal, invalidArgument, notFound } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { mapConcurrent } from "../shared/concurrent.ts";
import { runStreamed } from "../shared/git_stream.ts";
import { isDot, treeEntryMessage, treeEntryType } from "./trees.ts";

type Entry = Init<TreeEntry> & { path: Uint8Array; oid: string; type: TreeEntry_EntryType };

/** How deep flat paths are followed, as in Gitaly. */
const FLAT_PATH_DEPTH = 10;
/** Trees read at once (each through its own cat-file process) while finding flat paths. */
const FLAT_PATH_CONCURRENCY = 4;

/** Builds the handler. */
export function getTreeEntries(deps: ServiceDeps): Rpc<"gitaly.CommitService", "GetTreeEntries"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    if (!req.path?.length) {
      throw invalidArgument("empty path").withDetail("gitaly.GetTreeEntriesError", {
        path: { error_type: PathError_ErrorType.ERROR_TYPE_EMPTY_PATH },
      });
    }
    const requested = isDot(req.path) ? new Uint8Array(0) : req.path;
    // Entry paths are joined onto the cleaned request path, as Go's filepath.Join does.
    const dir = splitPath(requested).reduce((a, c) => joinPath(a, c), new Uint8Array(0));
    const unresolved = (code: "invalid" | "notfound") => {
      const message = "invalid revision or path";
      const error = code === "invalid" ? invalidArgument(message) : notFound(message);
      return error
        .withDetail("gitaly.GetTreeEntriesError", { resolve_tree: { revision: req.revision } })
        .withField("path", text(requested))
        .withField("revision", revision);
    };

    const root = await deps.catfile.info(repoPath, `${revision}^{tree}`, { signal: ctx.signal });
    const target = root &&
      await resolveTreePath(deps.catfile, repoPath, root.oid, requested, ctx.signal);
    let entries: Entry[];
    if (req.recursive) {
      if (!target) throw unresolved("notfound");
      entries = await listRecursive(deps, repoPath, revision, dir, target, ctx.signal);
    } else {
      if (!target) throw unresolved("invalid");
      const tree = target.kind === "tree"
        ? await readTree(deps.catfile, repoPath, target.oid, ctx.signal)
        : null;
      entries = (tree ?? []).map((entry) => treeEntryMessage(revision, dir, entry));
    }

    if (req.sort === GetTreeEntriesRequest_SortBy.TREES_FIRST) {
      entries = stableSortBy(entries, (e) => SORT_RANK[e.type]);
    }
    let cursor: string | undefined;
    if (req.pagination_params) {
      [entries, cursor] = paginate(entries, req.pagination_params);
    }
    if (!req.recursive && !req.skip_flat_paths) {
      await mapConcurrent(entries, FLAT_PATH_CONCURRENCY, async (entry) => {
        entry.flat_path = await flatPath(deps, repoPath, entry, ctx.signal);
      });
    }

    let first = true;
    const chunker = new SizeChunker<Entry>("gitaly.TreeEntry", async (batch) => {
      const message: Record<string, unknown> = { entries: batch };
      if (first) message.pagination_cursor = { next_cursor: cursor ?? "" };
      first = false;
      await send(message);
    });
    for (const entry of entries) await chunker.add(entry);
    await chunker.flush();
  });
}

/** Trees, then blobs, then submodules (Gitaly's ls-tree type order). */
const SORT_RANK: Record<TreeEntry_EntryType, number> = {
  [TreeEntry_EntryType.TREE]: 0,
  [TreeEntry_EntryType.BLOB]: 1,
  [TreeEntry_EntryType.COMMIT]: 2,
};

function stableSortBy<T>(items: T[], key: (item: T) => number): T[] {
  return items.map((item, i) => ({ item, i, k: key(item) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.item);
}

async function listRecursive(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  dir: Uint8Array,
  target: { oid: string; kind: string },
  signal: AbortSignal,
): Promise<Entry[]> {
  if (target.kind !== "tree") {
    // Gitaly reads the resolved object as a tree: a blob or a submodule is no tree.
    throw invalidArgument("revision doesn't exist")
      .withDetail("gitaly.GetTreeEntriesError", {
        resolve_tree: { revision: new TextEncoder().encode(revision) },
      });
  }
  const entries: Entry[] = [];
  const parser = new LsTreeParser();
  const exit = await runStreamed(deps.git, {
    gitDir: repoPath,
    command: { name: "ls-tree", flags: ["-z", "-r", "-t", "--full-tree"], args: [target.oid] },
    signal,
  }, {
    stdout: (chunk) => {
      for (const record of parser.push(chunk)) {
        entries.push({
          oid: record.oid,
          path: joinPath(dir, record.path),
          type: treeEntryType(record.mode),
          mode: parseInt(record.mode, 8),
          commit_oid: revision,
        });
      }
      return Promise.resolve();
    },
  });
  parser.end();
  if (exit.code !== 0) throw internal(`listing tree entries: ls-tree: ${exit.stderr.trim()}`);
  return entries;
}

/** Follows a tree entry down through trees that hold nothing but one tree. */
async function flatPath(
  deps: ServiceDeps,
  repoPath: string,
  entry: Entry,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let path = entry.path;
  if (entry.type !== TreeEntry_EntryType.TREE) return path;
  let oid = entry.oid;
  for (let i = 1; i < FLAT_PATH_DEPTH; i++) {
    const children = await readTree(deps.catfile, repoPath, oid, signal);
    if (!children || children.length !== 1) break;
    const [only] = children;
    if (treeEntryType(only.mode) !== TreeEntry_EntryType.TREE) break;
    path = joinPath(path, only.name);
    oid = only.oid;
  }
  return path;
}

/** Gitaly's pagination of tree entries: the page after the token's entry, `limit` long. */
function paginate(
  entries: Entry[],
  params: { page_token?: string; limit?: number },
): [Entry[], string | undefined] {
  const limit = params.limit ?? 0;
  const token = decodePageToken(params.page_token ?? "");
  let index = -1;
  if (token.start === "") {
    index = 0;
  } else {
    const found = entries.findIndex((e) => (token.byPath ? text(e.path) : e.oid) === token.start);
    if (found >= 0) index = found + 1;
  }
  if (index === -1) {
    throw internal(`could not find starting OID: ${token.start}`);
  }
  if (limit === 0) return [[], undefined];
  if (limit < 0 || index + limit >= entries.length) return [entries.slice(index), undefined];
  const page = entries.slice(index, index + limit);
  return [page, encodePageToken(page[page.length - 1])];
}

function decodePageToken(token: string): { start: string; byPath: boolean } {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(token)) {
    return { start: token, byPath: false };
  }
  try {
    const json = JSON.parse(new TextDecoder("utf-8", { fatal: false }).decode(
      Uint8Array.from(atob(token), (c) => c.charCodeAt(0)),
    ));
    if (json === null) return { start: "", byPath: true };
    if (typeof json !== "object" || Array.isArray(json)) return { start: token, byPath: false };
    const name = json.file_name;
    if (name === undefined || name === null) return { start: "", byPath: true };
    if (typeof name !== "string") return { start: token, byPath: false };
    return { start: name, byPath: true };
  } catch {
    return { start: token, byPath: false };
  }
}

function encodePageToken(entry: Entry): string {
  // Go's json.Marshal escapes <, > and & too.
  const json = JSON.stringify({ file_name: text(entry.path) })
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const bytes = new TextEncoder().encode(json);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
