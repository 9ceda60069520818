/**
 * `ListCommitsByOid`: the commits the given ids (or any revisions) name,
 * in request order, leaving out those that name none; batched by message
 * size.
 *
 * @module
 */
import type { GitCommit, Init } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readCommit } from "../shared/commits.ts";
import { isReadable } from "./revisions.ts";

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
    for (const oid of req.oid ?? []) {
      if (!isReadable(oid)) continue;
      const commit = await readCommit(deps, repoPath, oid, ctx.signal);
      if (commit) await chunker.add(commit);
    }
    await chunker.flush();
  });
}
