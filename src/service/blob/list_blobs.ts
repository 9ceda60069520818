/**
 * `ListBlobs`: the blobs a graph walk from `revisions` reaches
 * (`rev-list --objects` with `--not`, `--all` and the other pseudo
 * revisions; blob ids and `rev:path` work too), in rev-list's order, up to
 * `limit` blobs (0: all) with `bytes_limit` content bytes each (0: none,
 * negative: all), with the path the walk met each blob under when
 * `with_paths` is set. Items are batched into messages below 1 MiB.
 *
 * @module
 */
import { revList } from "../../git/object_pipeline.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { type BlobItem, processBlobs } from "./process_blobs.ts";
import { validateWalkRevisions } from "./revisions.ts";

/** Builds the handler. */
export function listBlobs(deps: ServiceDeps): Rpc<"gitaly.BlobService", "ListBlobs"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const revisions = validateWalkRevisions(req.revisions);
    const pipeline = { gitDir: repoPath, env, signal: ctx.signal };
    const chunker = new SizeChunker<BlobItem>(
      "gitaly.ListBlobsResponse.Blob",
      (blobs) => send({ blobs }),
    );
    const listed = revList(deps.git, { ...pipeline, revisions, objects: true, objectType: "blob" });
    await processBlobs(deps, ctx, pipeline, { listed }, {
      limit: Number(req.limit ?? 0),
      bytesLimit: Number(req.bytes_limit ?? 0),
    }, (item) => chunker.add(req.with_paths ? item : { ...item, path: undefined }));
    await chunker.flush();
  });
}
