/**
 * `GetBlobs`: the objects at `revision:path` pairs, in request order. Each
 * object's first message carries its metadata (`oid`, `size`, `mode`,
 * `type`, `revision`, `path`); blob content follows in chunks of at most
 * 128 KiB, up to `limit` bytes per blob (negative: all; 0: none). Trees come
 * with their size and no content; submodules (gitlinks) with
 * `is_submodule`, their commit id and no size; a path that names nothing
 * with only `revision` and `path` set, as Gitaly answers.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { ObjectType } from "../../proto/types.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { contentChunks } from "../shared/object_content.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { binaryBytes, binaryString, TreeEntryFinder } from "../shared/tree_entries.ts";

const OBJECT_TYPES = {
  blob: ObjectType.BLOB,
  tree: ObjectType.TREE,
  commit: ObjectType.COMMIT,
} as const;

/** Builds the handler. */
export function getBlobs(deps: ServiceDeps): Rpc<"gitaly.BlobService", "GetBlobs"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const lookups = req.revision_paths ?? [];
    if (lookups.length === 0) throw invalidArgument("empty RevisionPaths");
    for (const lookup of lookups) validateRevision(lookup.revision ?? "");

    const options = { env, signal: ctx.signal };
    const finder = new TreeEntryFinder(deps.catfile, repoPath, options);
    const limit = Number(req.limit ?? 0);
    for (const lookup of lookups) {
      const revision = lookup.revision ?? "";
      let path = binaryString(lookup.path ?? new Uint8Array());
      if (path.length > 1) path = path.replace(/\/+$/, "");
      const pathBytes = binaryBytes(path);
      const entry = await finder.find(revision, path);
      if (entry === null) {
        await send({ revision, path: pathBytes });
        continue;
      }
      const metadata = {
        oid: entry.oid,
        mode: entry.mode,
        revision,
        path: pathBytes,
        type: OBJECT_TYPES[entry.type],
      };
      if (entry.type === "commit") {
        await send({ ...metadata, is_submodule: true });
        continue;
      }
      const info = await deps.catfile.info(repoPath, entry.oid, options);
      if (info === null) throw internal(`read object info: object not found: ${entry.oid}`);
      const first = { ...metadata, size: info.size };
      const readLimit = limit < 0 || limit > info.size ? info.size : limit;
      if (entry.type !== "blob" || readLimit === 0) {
        await send(first);
        continue;
      }
      const blob = await deps.catfile.object(repoPath, entry.oid, options);
      if (blob === null) throw internal(`read object: object not found: ${entry.oid}`);
      let pending: typeof first | undefined = first;
      if (blob.type !== "blob") {
        await blob.content.cancel();
        throw internal(`blob got unexpected type ${JSON.stringify(blob.type)}`);
      }
      for await (const data of contentChunks(blob, readLimit, ctx.signal, true)) {
        await send({ ...pending, data });
        pending = undefined;
      }
    }
  });
}
