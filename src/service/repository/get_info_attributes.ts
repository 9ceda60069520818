/**
 * `GetInfoAttributes`: a repository's `info/attributes` file, streamed as
 * it is on disk.
 *
 * @module
 */
import { join } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { openIfExists } from "../shared/storage.ts";

/** Builds the handler: one empty message when there is no such file. */
export function getInfoAttributes(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetInfoAttributes"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const file = await openIfExists(
      join(repoPath, "info", "attributes"),
      "reading info attributes",
    );
    if (!file) return await send({});
    for await (const attributes of chunkStream(file.readable, { signal: ctx.signal })) {
      await send({ attributes });
    }
  });
}
