/**
 * `GetConfig`: a repository's `config` file, streamed as it is on disk.
 *
 * @module
 */
import { join } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import { notFound } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { openIfExists } from "../shared/storage.ts";

/** Builds the handler: NotFound when the repository has no config file. */
export function getConfig(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "GetConfig"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const file = await openIfExists(join(repoPath, "config"), "opening gitconfig");
    if (!file) throw notFound("opening gitconfig: no such file or directory");
    for await (const data of chunkStream(file.readable, { signal: ctx.signal })) {
      await send({ data });
    }
  });
}
