/**
 * `ListLFSPointers`: the LFS pointers a graph walk from `revisions` reaches
 * (`rev-list --objects` of blobs smaller than 200 bytes, pseudo revisions
 * allowed), at most `limit` (0 or negative: all).
 *
 * @module
 */
import { LFS_POINTER_MAX_SIZE } from "../../git/lfs.ts";
import { revList } from "../../git/object_pipeline.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { objectIds, sendLfsPointers } from "./lfs_pointers.ts";
import { validateWalkRevisions } from "./revisions.ts";

/** Builds the handler. */
export function listLfsPointers(deps: ServiceDeps): Rpc<"gitaly.BlobService", "ListLFSPointers"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const revisions = validateWalkRevisions(req.revisions);
    const pipeline = { gitDir: repoPath, env, signal: ctx.signal };
    const candidates = objectIds(revList(deps.git, {
      ...pipeline,
      revisions,
      objects: true,
      blobLimit: LFS_POINTER_MAX_SIZE,
      objectType: "blob",
    }));
    await sendLfsPointers(
      deps,
      ctx,
      pipeline,
      candidates,
      Number(req.limit ?? 0),
      (lfs_pointers) => send({ lfs_pointers }),
    );
  });
}
