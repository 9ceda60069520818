/**
 * What `ListBlobs` and `ListAllBlobs` share (Gitaly's `processBlobs`):
 * turning enumerated blobs into response items, with their content up to
 * `bytes_limit` bytes each, and stopping after `limit` blobs.
 *
 * @module
 */
import type { ListedObject, ListedObjectInfo, PipelineContext } from "../../git/object_pipeline.ts";
import { objectInfos } from "../../git/object_pipeline.ts";
import { wrapError } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { contentChunks, pipelineFailure } from "../shared/object_content.ts";

/** One response item: a blob, or the next chunk of one (then without `oid` and `size`). */
export interface BlobItem {
  oid?: string;
  size?: number;
  data?: Uint8Array;
  path?: Uint8Array;
}

/** The blobs to process: listed by a walk, or already looked up. */
export type BlobSource =
  | { listed: AsyncIterable<ListedObject> }
  | { infos: AsyncIterable<ListedObjectInfo> };

/** Limits of {@link processBlobs}. */
export interface BlobLimits {
  /** Most blobs; 0 for all. */
  limit: number;
  /** Content bytes per blob: 0 for none, negative for all. */
  bytesLimit: number;
}

/**
 * Emits an item per blob of `source` (several for a blob whose content takes
 * more than one chunk). Failures become `processing blobs: …`.
 */
export async function processBlobs(
  deps: ServiceDeps,
  ctx: CallContext,
  pipeline: PipelineContext,
  source: BlobSource,
  limits: BlobLimits,
  emit: (item: BlobItem) => Promise<void>,
): Promise<void> {
  try {
    let count = 0;
    const done = () => limits.limit > 0 && ++count >= limits.limit;
    if (limits.bytesLimit === 0) {
      const infos = "infos" in source
        ? source.infos
        : objectInfos(deps.catfile, source.listed, pipeline);
      for await (const info of infos) {
        await emit({ oid: info.oid, size: info.size, path: info.name });
        if (done()) break;
      }
      return;
    }
    const objects = "infos" in source ? source.infos : source.listed;
    for await (const listed of objects) {
      const object = await deps.catfile.object(pipeline.gitDir, listed.oid, pipeline);
      if (object === null) {
        throw new Error(`object not found: ${listed.oid}`);
      }
      let header: BlobItem | undefined = { oid: object.oid, size: object.size };
      for await (const data of contentChunks(object, limits.bytesLimit, ctx.signal)) {
        await emit({ ...header, data, path: listed.name });
        header = undefined;
      }
      if (header) await emit({ ...header, path: listed.name });
      if (done()) break;
    }
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw wrapError("processing blobs", pipelineFailure(error));
  }
}
