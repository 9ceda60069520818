/**
 * `gitaly.BlobService`: blobs and Git LFS pointers, read through the
 * cat-file cache and object pipelines.
 *
 * @module
 */
import type { ServiceImplementation } from "../../server/rpc.ts";
import { defineService } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { getBlob } from "./get_blob.ts";
import { getBlobs } from "./get_blobs.ts";
import { getLfsPointers } from "./get_lfs_pointers.ts";
import { listAllBlobs } from "./list_all_blobs.ts";
import { listAllLfsPointers } from "./list_all_lfs_pointers.ts";
import { listBlobs } from "./list_blobs.ts";
import { listLfsPointers } from "./list_lfs_pointers.ts";

/** Builds the service's handlers. */
export function blobService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.BlobService", {
    GetBlob: getBlob(deps),
    GetBlobs: getBlobs(deps),
    ListBlobs: listBlobs(deps),
    ListAllBlobs: listAllBlobs(deps),
    GetLFSPointers: getLfsPointers(deps),
    ListLFSPointers: listLfsPointers(deps),
    ListAllLFSPointers: listAllLfsPointers(deps),
  });
}
