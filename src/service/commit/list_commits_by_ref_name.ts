/**
 * `ListCommitsByRefName`: for each reference name (or any revision) the
 * commit it peels to, with the name as given, skipping names that resolve
 * to no commit; batched by size.
 *
 * @module
 */
import type { Init, ListCommitsByRefNameResponse_CommitForRef } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { peeledCommits } from "./object_pipe.ts";

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
    const names = req.ref_names.map(text);
    await peeledCommits(
      deps,
      repoPath,
      ctx.signal,
      names,
      (commit, index) => chunker.add({ commit, ref_name: req.ref_names[index] }),
    );
    await chunker.flush();
  });
}
