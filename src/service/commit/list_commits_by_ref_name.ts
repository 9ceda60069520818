/**
 * `ListCommitsByRefName`: for each reference name, the commit it points
 * to (peeled), leaving out names that resolve to none; batched by message
 * size.
 *
 * @module
 */
import type { Init, ListCommitsByRefNameResponse_CommitForRef } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readCommit } from "../shared/commits.ts";
import { isReadable } from "./revisions.ts";

/** Builds the handler. */
export function listCommitsByRefName(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "ListCommitsByRefName"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const chunker = new SizeChunker<Init<ListCommitsByRefNameResponse_CommitForRef>>(
      "gitaly.ListCommitsByRefNameResponse.CommitForRef",
      (commit_refs) => send({ commit_refs }),
    );
    for (const refName of req.ref_names ?? []) {
      const name = text(refName);
      if (!isReadable(name)) continue;
      const commit = await readCommit(deps, repoPath, name, ctx.signal);
      if (commit) await chunker.add({ commit, ref_name: refName });
    }
    await chunker.flush();
  });
}
