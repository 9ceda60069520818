/**
 * `ListConflictFiles`: the files that conflict when merging their commit
 * into ours, as Gitaly lists them: git-merge-tree(1) (unrelated histories
 * allowed) in a quarantine, one header per conflicting path (our, their
 * and ancestor path, our mode) in merge-tree's order, each followed by the
 * conflicted content from the merged tree, its markers labelled with the
 * paths. Content goes out in 128 KiB pieces; a message is sent once it
 * holds 128 KiB of content. A side missing (a tree conflict) is refused
 * unless `allow_tree_conflicts`; content that is not UTF-8 is refused.
 *
 * @module
 */
import { DEFAULT_CHUNK_SIZE } from "../../git/chunk.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import type { ConflictFile, Init } from "../../proto/types.ts";
import { failedPrecondition, internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { Quarantine } from "../operation/quarantine.ts";
import { contentChunks } from "../shared/object_content.ts";
import { labelWithPaths } from "./labels.ts";
import { resolveCommitOid, treeEntry } from "./revisions.ts";

/** One conflicting path's header as collected from merge-tree's stages. */
interface ConflictHeader {
  theirPath: string;
  ourPath: string;
  ancestorPath: string;
  ourMode: number;
}

/** Builds the handler. */
export function listConflictFiles(
  deps: ServiceDeps,
): Rpc<"gitaly.ConflictsService", "ListConflictFiles"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (!req.our_commit_oid) throw invalidArgument("empty OurCommitOid");
    if (!req.their_commit_oid) throw invalidArgument("empty TheirCommitOid");
    const quarantine = await Quarantine.create(deps, req.repository!);
    try {
      const env = quarantine.env;
      const lookup = { deps, repoPath, env, signal: ctx.signal };
      const ours = await resolveCommitOid(lookup, req.our_commit_oid, "our");
      const theirs = await resolveCommitOid(lookup, req.their_commit_oid, "their");
      let conflict: MergeTreeConflictError;
      try {
        await mergeTree(deps.git, repoPath, {
          ours,
          theirs,
          allowUnrelatedHistories: true,
          env,
          signal: ctx.signal,
        });
        return; // no conflicts
      } catch (error) {
        if (!(error instanceof MergeTreeConflictError)) {
          throw internal(`couldn't find conflict: ${(error as Error).message}`);
        }
        conflict = error;
      }

      let batch: Init<ConflictFile>[] = [];
      let batchContent = 0;
      const flush = async () => {
        await send({ files: batch });
        batch = [];
        batchContent = 0;
      };
      for (const header of conflictHeaders(conflict)) {
        if (!req.allow_tree_conflicts && (header.theirPath === "" || header.ourPath === "")) {
          throw failedPrecondition("conflict side missing");
        }
        batch.push({
          header: {
            commit_oid: req.our_commit_oid,
            their_path: new TextEncoder().encode(header.theirPath),
            our_path: new TextEncoder().encode(header.ourPath),
            ancestor_path: new TextEncoder().encode(header.ancestorPath),
            our_mode: header.ourMode,
          },
        });
        if (req.skip_content) continue;

        const path = header.ourPath || header.theirPath;
        const entry = await treeEntry(lookup, conflict.tree, path);
        if (!entry) throw failedPrecondition("getting file revision: reference not found");
        await checkUtf8(deps, repoPath, entry.oid, env, ctx.signal);
        const object = await readObject(deps, repoPath, entry.oid, env, ctx.signal);
        const labelled = labelWithPaths(contentChunks(object, -1, ctx.signal), {
          ours,
          ourPath: header.ourPath,
          theirs,
          theirPath: header.theirPath,
        });
        for await (const piece of pieces(labelled, DEFAULT_CHUNK_SIZE)) {
          batch.push({ content: piece });
          batchContent += piece.byteLength;
          if (batchContent >= DEFAULT_CHUNK_SIZE) await flush();
        }
      }
      if (batch.length > 0) await flush();
    } finally {
      await quarantine.cleanup();
    }
  });
}

/**
 * One header per conflicting path, in merge-tree's order, from its stages:
 * 1 the ancestor's path, 2 ours (and our mode), 3 theirs.
 */
function conflictHeaders(conflict: MergeTreeConflictError): ConflictHeader[] {
  const byPath = new Map<string, ConflictHeader>();
  for (const file of conflict.conflictingFiles) {
    let header = byPath.get(file.path);
    if (!header) {
      header = { theirPath: "", ourPath: "", ancestorPath: "", ourMode: 0 };
      byPath.set(file.path, header);
    }
    if (file.stage === 1) header.ancestorPath = file.path;
    else if (file.stage === 2) {
      header.ourPath = file.path;
      header.ourMode = file.mode;
    } else if (file.stage === 3) header.theirPath = file.path;
  }
  return [...byPath.values()];
}

async function readObject(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  env: Record<string, string>,
  signal: AbortSignal,
) {
  const object = await deps.catfile.object(repoPath, oid, { env, signal });
  if (!object) throw failedPrecondition("getting objectreader: object not found");
  return object;
}

/** Gitaly refuses conflicted content that is not valid UTF-8 (read once through, not kept). */
async function checkUtf8(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const object = await readObject(deps, repoPath, oid, env, signal);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    for await (const chunk of contentChunks(object, -1, signal)) {
      decoder.decode(chunk, { stream: true });
    }
    decoder.decode();
  } catch (error) {
    if (error instanceof TypeError) throw failedPrecondition("unsupported encoding");
    throw error;
  }
}

/** Re-cuts a byte stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* pieces(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let piece = new Uint8Array(size);
  let filled = 0;
  for await (let chunk of source) {
    while (chunk.byteLength > 0) {
      const take = Math.min(size - filled, chunk.byteLength);
      piece.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === size) {
        yield piece;
        piece = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield piece.subarray(0, filled);
}
