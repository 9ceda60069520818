/**
 * `ListCommitsByOid`: the commits the given ids (full or abbreviated, or
 * any revision) peel to, in request order, skipping those that name no
 * commit; batched by size.
 *
 * @module
 */
import type { GitCommit, Init } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { peeledCommits } from "./object_pipe.ts";

/** Builds the handler. */
export function listCommitsByOid(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "ListCommitsByOid"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const chunker = new SizeChunker<Init<GitCommit>>(
      "gitaly.GitCommit",
      (commits) => send({ commits }),
    );
    await peeledCommits(deps, repoPath, ctx.signal, req.oid, (commit) => chunker.add(commit));
    await chunker.flush();
  });
}
