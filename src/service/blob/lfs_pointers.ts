/**
 * What the three LFS pointer RPCs share: reading candidate blobs (at most
 * {@link LFS_POINTER_MAX_SIZE} bytes, so whole, many per cat-file round
 * trip), keeping the LFS pointers and batching them into messages below
 * 1 MiB.
 *
 * @module
 */
import { isLfsPointer, LFS_POINTER_MAX_SIZE } from "../../git/lfs.ts";
import type { ListedObject, PipelineContext } from "../../git/object_pipeline.ts";
import type { Init, LFSPointer } from "../../proto/types.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { pipelineFailure } from "../shared/object_content.ts";

/** The ids of the objects of `objects` that may be LFS pointers: blobs up to the size bound. */
export async function* lfsCandidates(
  objects: AsyncIterable<{ oid: string; type: string; size: number }>,
): AsyncGenerator<string, void, undefined> {
  for await (const object of objects) {
    if (object.type === "blob" && object.size <= LFS_POINTER_MAX_SIZE) yield object.oid;
  }
}

/** The ids of `objects`. */
export async function* objectIds(
  objects: AsyncIterable<ListedObject>,
): AsyncGenerator<string, void, undefined> {
  for await (const object of objects) yield object.oid;
}

/**
 * Sends the LFS pointers among `candidates` (ids of blobs up to the size
 * bound) through `send`, at most `limit` (0 or negative: all).
 */
export async function sendLfsPointers(
  deps: ServiceDeps,
  ctx: CallContext,
  pipeline: PipelineContext,
  candidates: AsyncIterable<string>,
  limit: number,
  send: (pointers: Init<LFSPointer>[]) => Promise<void>,
): Promise<void> {
  const chunker = new SizeChunker<Init<LFSPointer>>("gitaly.LFSPointer", send);
  try {
    let count = 0;
    const objects = deps.catfile.readMany(pipeline.gitDir, candidates, pipeline);
    for await (const { revision, object } of objects) {
      if (object === null) throw new Error(`object not found: ${revision}`);
      if (object.type !== "blob" || !isLfsPointer(object.data)) continue;
      await chunker.add({ data: object.data, size: object.size, oid: object.oid });
      if (limit > 0 && ++count >= limit) break;
    }
  } catch (error) {
    throw ctx.signal.aborted ? error : pipelineFailure(error);
  }
  await chunker.flush();
}
