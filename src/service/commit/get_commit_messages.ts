/**
 * `GetCommitMessages`: the whole message of each commit in `commit_ids`:
 * a message with the `commit_id`, then the message bytes in chunks, as
 * Gitaly streams them. An id that names no commit is `Internal`, as in
 * Gitaly.
 *
 * @module
 */
import { chunkBytes } from "../../git/chunk.ts";
import { splitHeader } from "../../git/commit_parser.ts";
import { internal } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { readObjectBytes } from "../shared/commits.ts";

/** Builds the handler. */
export function getCommitMessages(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "GetCommitMessages"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    for (const commitId of req.commit_ids ?? []) {
      const object = commitId === "" || commitId.includes("\n")
        ? null
        : await readObjectBytes(deps, repoPath, commitId, ctx.signal);
      if (!object) throw internal("failed to get commit message: object not found");
      if (object.type !== "commit") {
        throw internal(`failed to get commit message: object ${object.oid} is not a commit`);
      }
      const { messageStart } = splitHeader(object.data, true);
      const message = messageStart === null
        ? new Uint8Array(0)
        : object.data.subarray(messageStart);
      await send({ commit_id: commitId });
      for (const chunk of chunkBytes(message)) await send({ message: chunk });
    }
  });
}
