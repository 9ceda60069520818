/**
 * `ListLastCommitsForTree` for a request path that is not UTF-8 (which
 * cannot go on git's command line from Deno): the tree is found by walking
 * tree objects from the revision and each entry's last commit asked of
 * `git log` with the path on stdin. `list_last_commits_for_tree.ts`
 * answers every other request.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import {
  bytesEqual,
  entryKind,
  joinPath,
  LsTreeParser,
  readTree,
  resolveTreePath,
  splitPath,
} from "../../git/tree.ts";
import type { Init, ListLastCommitsForTreeResponse_CommitForTree } from "../../proto/types.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { CountChunker } from "../shared/chunker.ts";
import { mapConcurrent } from "../shared/concurrent.ts";
import { describeExit, runStreamed } from "../shared/git_stream.ts";
import { lastCommitForPath } from "./last_commits.ts";
import { globalOptionsEnv } from "./options.ts";

/** Entries per message, as in Gitaly. */
const BATCH = 10;
/** `git log` processes run at once for one call. */
const LOG_CONCURRENCY = 4;
const TYPE_ORDER: Record<string, number> = { tree: 0, blob: 1, commit: 2 };

/** Builds the handler for non-UTF-8 paths. */
export function listLastCommitsForTreeByWalk(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "ListLastCommitsForTree"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = req.revision ?? "";
    validateRevision(revision);
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 0;
    if (offset < 0) throw invalidArgument("offset negative");
    if (limit < 0) throw invalidArgument("limit negative");
    let path = text(req.path);
    if (path === "" || path === "/") path = ".";
    const env = globalOptionsEnv(req.global_options);

    const entries = isUtf8(req.path)
      ? await lsTree(deps, repoPath, revision, path, env, ctx.signal)
      : await walkTree(deps, repoPath, revision, req.path, ctx.signal);
    const sorted = entries
      .map((entry, i) => ({ entry, i }))
      .sort((a, b) => (TYPE_ORDER[a.entry.type] - TYPE_ORDER[b.entry.type]) || a.i - b.i)
      .map((x) => x.entry);
    const page = offset >= sorted.length ? [] : sorted.slice(offset, offset + limit);

    const chunker = new CountChunker<Init<ListLastCommitsForTreeResponse_CommitForTree>>(
      (commits) => send({ commits }),
      BATCH,
    );
    // One git log per entry, as Gitaly runs them, a few at a time; sent in order.
    for (let start = 0; start < page.length; start += BATCH) {
      const batch = page.slice(start, start + BATCH);
      const commits = await mapConcurrent(batch, LOG_CONCURRENCY, async (entry) => {
        const commit = await lastCommitForPath(
          deps,
          repoPath,
          revision,
          entry.path,
          env,
          ctx.signal,
        );
        if (!commit) throw internal(`object not found: last commit of ${text(entry.path)}`);
        return { path_bytes: entry.path, commit };
      });
      for (const commit of commits) await chunker.add(commit);
    }
    await chunker.flush();
  });
}

type Listed = { type: string; path: Uint8Array };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `bytes` are valid UTF-8 (and so can go on git's command line). */
export function isUtf8(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array)) return true; // an unset field decodes as an empty array
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** `git ls-tree -z --full-name <revision> -- <path>`, as Gitaly lists the entries. */
async function lsTree(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  path: string,
  env: Record<string, string> | undefined,
  signal: AbortSignal,
): Promise<Listed[]> {
  const entries: Listed[] = [];
  const parser = new LsTreeParser();
  const exit = await runStreamed(deps.git, {
    gitDir: repoPath,
    command: {
      name: "ls-tree",
      flags: ["-z", "--full-name"],
      args: [revision],
      postSepArgs: [path],
    },
    env,
    signal,
  }, {
    stdout: (chunk) => {
      for (const entry of parser.push(chunk)) entries.push(entry);
      return Promise.resolve();
    },
  });
  parser.end();
  if (exit.code !== 0) throw internal(describeExit(exit)).withField("stderr", exit.stderr);
  return entries;
}

/**
 * What ls-tree lists for a path git's command line cannot carry (not
 * UTF-8), found by walking trees: with a trailing `/` the tree's entries,
 * else the entry itself.
 */
async function walkTree(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  path: Uint8Array,
  signal: AbortSignal,
): Promise<Listed[]> {
  const root = await deps.catfile.info(repoPath, `${revision}^{tree}`, { signal });
  if (!root) throw internal("exit status 128");
  const components = splitPath(path);
  const listChildren = path[path.byteLength - 1] === 0x2f;
  const parent = listChildren ? components : components.slice(0, -1);
  const dir = parent.reduce((a, c) => joinPath(a, c), new Uint8Array(0));
  const tree = await resolveTreePath(deps.catfile, repoPath, root.oid, dir, signal);
  if (!tree || tree.kind !== "tree") return [];
  const entries = await readTree(deps.catfile, repoPath, tree.oid, signal) ?? [];
  const name = components[components.length - 1];
  return entries
    .filter((entry) => listChildren || bytesEqual(entry.name, name))
    .map((entry) => ({ type: entryKind(entry.mode), path: joinPath(dir, entry.name) }));
}
