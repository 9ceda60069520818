/**
 * `ListAllBlobs`: every blob in the object database, reachable or not (and
 * only the quarantine's when the repository names a quarantine directory),
 * in pack order (`cat-file --batch-all-objects --unordered`), up to `limit`
 * blobs (0: all) with `bytes_limit` content bytes each (0: none, negative:
 * all). Items are batched into messages below 1 MiB.
 *
 * @module
 */
import { allObjects } from "../../git/object_pipeline.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { type BlobItem, processBlobs } from "./process_blobs.ts";

/** Builds the handler. */
export function listAllBlobs(deps: ServiceDeps): Rpc<"gitaly.BlobService", "ListAllBlobs"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const pipeline = { gitDir: repoPath, env, signal: ctx.signal };
    const chunker = new SizeChunker<BlobItem>(
      "gitaly.ListAllBlobsResponse.Blob",
      (blobs) => send({ blobs }),
    );
    await processBlobs(deps, ctx, pipeline, { infos: onlyBlobs(allObjects(deps.git, pipeline)) }, {
      limit: Number(req.limit ?? 0),
      bytesLimit: Number(req.bytes_limit ?? 0),
    }, (item) => chunker.add(item));
    await chunker.flush();
  });
}

async function* onlyBlobs<T extends { type: string }>(objects: AsyncIterable<T>) {
  for await (const object of objects) if (object.type === "blob") yield object;
}
