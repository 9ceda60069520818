/**
 * `TreeEntry`: the entry at `path` in `revision`'s tree. A blob comes with
 * its content (at most `limit` bytes when `limit` > 0), streamed in chunks
 * as read from cat-file; the first message carries type, oid, size and
 * mode. A blob bigger than `max_size` (when > 0) is `FailedPrecondition`.
 * Trees and submodules answer one message without data.
 *
 * @module
 */
import { chunkStream } from "../../git/chunk.ts";
import { validateRevision } from "../../git/revision.ts";
import { entryKind, readTreeEntry, splitPath } from "../../git/tree.ts";
import { TreeEntryResponse_ObjectType } from "../../proto/types.ts";
import { failedPrecondition, internal, invalidArgument, notFound } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { isCleanPath, trimTrailingSlashes } from "./trees.ts";

/** Past this many unread bytes, a cut-off blob's process is killed rather than drained. */
const DRAIN_LIMIT = 1024 * 1024;

/** Builds the handler. */
export function treeEntry(deps: ServiceDeps): Rpc<"gitaly.CommitService", "TreeEntry"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    if (!req.path?.length) throw invalidArgument("empty Path");
    const limit = Number(req.limit ?? 0);
    const maxSize = Number(req.max_size ?? 0);
    if (limit < 0) throw invalidArgument("negative Limit");
    if (maxSize < 0) throw invalidArgument("negative MaxSize");
    const path = trimTrailingSlashes(req.path);
    const notThere = () => notFound("tree entry not found").withField("path", text(path));

    if (!isCleanPath(path)) throw notThere();
    const root = await deps.catfile.info(repoPath, `${revision}^{tree}`, { signal: ctx.signal });
    if (!root) throw notThere();
    const components = splitPath(path);
    let treeOid = root.oid;
    let entry: { mode: string; oid: string } | undefined;
    for (const [i, component] of components.entries()) {
      entry = await readTreeEntry(deps.catfile, repoPath, treeOid, component, ctx.signal) ??
        undefined;
      if (!entry) throw notThere();
      if (i < components.length - 1) {
        if (entryKind(entry.mode) !== "tree") throw notThere();
        treeOid = entry.oid;
      }
    }
    if (!entry) throw notThere();
    const mode = parseInt(entry.mode, 8);
    const kind = entryKind(entry.mode);

    if (kind === "commit") {
      return await send({ type: TreeEntryResponse_ObjectType.COMMIT, mode, oid: entry.oid });
    }
    const info = await deps.catfile.info(repoPath, entry.oid, { signal: ctx.signal });
    if (!info) throw internal(`object not found: ${entry.oid}`);
    if (kind === "tree") {
      return await send({
        type: TreeEntryResponse_ObjectType.TREE,
        oid: entry.oid,
        size: info.size,
        mode,
      });
    }
    if (info.type !== "blob") {
      throw internal(
        `mismatched object type: tree-oid=${entry.oid} object-oid=${info.oid} entry-type=BLOB object-type=${info.type}`,
      );
    }
    if (maxSize > 0 && info.size > maxSize) {
      throw failedPrecondition(
        `object size (${info.size}) is bigger than the maximum allowed size (${maxSize})`,
      );
    }
    const length = limit > 0 && info.size > limit ? limit : info.size;
    const header = {
      type: TreeEntryResponse_ObjectType.BLOB,
      oid: info.oid,
      size: info.size,
      mode,
    };
    if (length === 0) return await send(header);

    const blob = await deps.catfile.object(repoPath, info.oid, { signal: ctx.signal });
    if (!blob) throw internal(`object not found: ${info.oid}`);
    let remaining = length;
    let first = true;
    for await (const chunk of chunkStream(blob.content, { signal: ctx.signal })) {
      if (remaining > 0) {
        const data = chunk.byteLength > remaining ? chunk.subarray(0, remaining) : chunk;
        remaining -= data.byteLength;
        await send(first ? { ...header, data } : { data });
        first = false;
      }
      // Drain a short rest so the cat-file process can serve the next request.
      if (remaining === 0 && blob.size - length > DRAIN_LIMIT) break;
    }
  });
}
