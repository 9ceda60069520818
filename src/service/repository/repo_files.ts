/**
 * `GetConfig` and `GetInfoAttributes`: a repository's `config` and
 * `info/attributes` files, streamed as they are on disk.
 *
 * @module
 */
import { join } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import type {
  GetConfigRequest,
  GetConfigResponse,
  GetInfoAttributesRequest,
  GetInfoAttributesResponse,
  Init,
} from "../../proto/types.ts";
import { internal, notFound } from "../../server/errors.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the `GetConfig` handler: NotFound when the repository has no config file. */
export function getConfig(deps: ServiceDeps) {
  return serverStream<GetConfigRequest, Init<GetConfigResponse>>(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const file = await openFile(join(repoPath, "config"), "opening gitconfig");
    if (!file) throw notFound("opening gitconfig: no such file or directory");
    for await (const data of chunkStream(file.readable, { signal: ctx.signal })) {
      await send({ data });
    }
  });
}

/** Builds the `GetInfoAttributes` handler: one empty message when there is no such file. */
export function getInfoAttributes(deps: ServiceDeps) {
  return serverStream<GetInfoAttributesRequest, Init<GetInfoAttributesResponse>>(
    async (req, ctx, send) => {
      const repoPath = await deps.locator.repoPath(req.repository);
      const file = await openFile(join(repoPath, "info", "attributes"), "reading info attributes");
      if (!file) return await send({});
      for await (const attributes of chunkStream(file.readable, { signal: ctx.signal })) {
        await send({ attributes });
      }
    },
  );
}

/** Opens `path` for reading; undefined when it does not exist. */
async function openFile(path: string, what: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw internal(`${what}: ${(err as Error).message}`);
  }
}
