/**
 * `GetLFSPointers`: those of `blob_ids` that are LFS pointers, in request
 * order; ids of other objects are skipped. An id that names no object is
 * `NotFound` (Gitaly 16.7 never answers such a request).
 *
 * @module
 */
import { objectInfos, ObjectNotFoundError } from "../../git/object_pipeline.ts";
import { invalidArgument, notFound } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { lfsCandidates, sendLfsPointers } from "./lfs_pointers.ts";

/** Builds the handler. */
export function getLfsPointers(deps: ServiceDeps): Rpc<"gitaly.BlobService", "GetLFSPointers"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const ids = req.blob_ids ?? [];
    if (ids.length === 0) throw invalidArgument("empty BlobIds");
    for (const id of ids) {
      if (id === "" || id.includes("\n") || id.includes("\0")) {
        throw invalidArgument(`invalid blob id: ${JSON.stringify(id)}`);
      }
    }
    const pipeline = { gitDir: repoPath, env, signal: ctx.signal };
    const given = (async function* () {
      for (const oid of ids) yield { oid };
    })();
    try {
      await sendLfsPointers(
        deps,
        ctx,
        pipeline,
        lfsCandidates(objectInfos(deps.catfile, given, pipeline)),
        0,
        (lfs_pointers) => send({ lfs_pointers }),
      );
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw notFound(error.message);
      throw error;
    }
  });
}
