/**
 * `ListLastCommitsForTree`: for the entries of a tree at a revision
 * (`git ls-tree --full-name`, directories first, then files, then
 * submodules), from `offset` up to `limit` of them, each with the last
 * commit that changed it; ten entries a message, as Gitaly sends them.
 * Entries changed on the merge-free stretch at the tip of history are
 * resolved in one walk, the others each by its own `git log`.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import type { Init, ListLastCommitsForTreeResponse_CommitForTree } from "../../proto/types.ts";
import { GrpcError, invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { CountChunker } from "../shared/chunker.ts";
import { commitForId, globalOptionsEnv, lastCommitIdForPath } from "./history.ts";
import { isUtf8, listLastCommitsForTreeByWalk } from "./last_commits_by_tree_walk.ts";
import { lastCommitsOnLinearTip } from "./linear_history.ts";

/** Entries per response message (Gitaly's batch size). */
const ENTRIES_PER_MESSAGE = 10;
/** Look-ups (`git log` processes) running at once for one request. */
const LOOKUP_CONCURRENCY = 4;

/** Sort rank of an ls-tree entry type: trees, then blobs, then submodules. */
const TYPE_RANK: Record<string, number> = { tree: 1, blob: 2, commit: 3 };

/** Builds the handler. */
export function listLastCommitsForTree(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "ListLastCommitsForTree"> {
  const byWalk = listLastCommitsForTreeByWalk(deps);
  return serverStream(async (req, ctx, send) => {
    if (!isUtf8(req.path)) return await byWalk.fn(req, ctx, send);
    const repoPath = await deps.locator.repoPath(req.repository);
    validateRevision(req.revision);
    if (req.offset < 0) throw invalidArgument("offset negative");
    if (req.limit < 0) throw invalidArgument("limit negative");
    let path = text(req.path);
    if (path === "" || path === "/") path = ".";
    const literal = !!req.global_options?.literal_pathspecs;
    const listing = await deps.git.run({
      gitDir: repoPath,
      command: {
        name: "ls-tree",
        flags: ["-z", "--full-name"],
        args: [req.revision],
        postSepArgs: [path],
      },
      env: globalOptionsEnv(req.global_options),
      signal: ctx.signal,
    });
    const entries = parseLsTree(listing.stdout);
    let offset = req.offset;
    if (offset >= entries.length) {
      offset = 0;
      entries.length = 0;
    }
    const page = entries.slice(offset, Math.min(entries.length, offset + req.limit));
    const chunker = new CountChunker<Init<ListLastCommitsForTreeResponse_CommitForTree>>(
      (commits) => send({ commits }),
      ENTRIES_PER_MESSAGE,
    );
    const known = listing.code !== 0 || page.length === 0
      ? new Map<number, string>()
      : await lastCommitsOnLinearTip(deps, repoPath, {
        revision: req.revision,
        pathspec: path,
        paths: page,
        literalPathspecs: literal,
        signal: ctx.signal,
      });
    for (let start = 0; start < page.length; start += LOOKUP_CONCURRENCY) {
      const window = page.slice(start, start + LOOKUP_CONCURRENCY);
      // Settled, not raced: no look-up keeps running once the call fails.
      const settled = await Promise.allSettled(window.map(async (entryPath, i) => {
        const oid = known.get(start + i) ?? await lastCommitIdForPath(deps, repoPath, {
          revision: req.revision,
          path: entryPath,
          literalPathspecs: literal,
          signal: ctx.signal,
        }).catch((error) => {
          throw error instanceof GrpcError
            ? error
            : new Error(`logging last commit for path: ${error.message}`);
        });
        return {
          path_bytes: entryPath,
          commit: await commitForId(deps, repoPath, oid, ctx.signal),
        };
      }));
      for (const result of settled) if (result.status === "rejected") throw result.reason;
      for (const result of settled) {
        if (result.status === "fulfilled") await chunker.add(result.value);
      }
    }
    if (listing.code !== 0) throw new Error(`exit status ${listing.code}`);
    await chunker.flush();
  });
}

/** Paths of `ls-tree -z` records, stably sorted: trees, then blobs, then submodules. */
function parseLsTree(output: Uint8Array): Uint8Array[] {
  const entries: { rank: number; path: Uint8Array }[] = [];
  let start = 0;
  while (start < output.length) {
    let end = output.indexOf(0, start);
    if (end < 0) end = output.length;
    const record = output.subarray(start, end);
    start = end + 1;
    const tab = record.indexOf(0x09);
    if (tab < 0) continue;
    const type = new TextDecoder().decode(record.subarray(0, tab)).split(" ")[1];
    entries.push({ rank: TYPE_RANK[type] ?? 0, path: record.slice(tab + 1) });
  }
  return entries.sort((a, b) => a.rank - b.rank).map((entry) => entry.path);
}
