/**
 * `ListAllLFSPointers`: every LFS pointer in the object database, reachable
 * or not, at most `limit` (0 or negative: all). With a repository whose
 * `git_object_directory` names a quarantine directory (and no alternates),
 * only the quarantined objects are seen, as with Gitaly.
 *
 * @module
 */
import { allObjects } from "../../git/object_pipeline.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { lfsCandidates, sendLfsPointers } from "./lfs_pointers.ts";

/** Builds the handler. */
export function listAllLfsPointers(
  deps: ServiceDeps,
): Rpc<"gitaly.BlobService", "ListAllLFSPointers"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const pipeline = { gitDir: repoPath, env, signal: ctx.signal };
    await sendLfsPointers(
      deps,
      ctx,
      pipeline,
      lfsCandidates(allObjects(deps.git, pipeline)),
      Number(req.limit ?? 0),
      (lfs_pointers) => send({ lfs_pointers }),
    );
  });
}
