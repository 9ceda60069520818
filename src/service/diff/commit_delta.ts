/**
 * `CommitDelta`: which files changed between two commits (paths, modes and
 * blob ids, no patches), batched by size as Gitaly batches them.
 *
 * @module
 */
import type { GitCommand } from "../../git/command.ts";
import type { CommitDelta, Init } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { MSG_SIZE_THRESHOLD } from "./commit_diff.ts";
import { eachDiff, validateLeftRight } from "./each_diff.ts";

/** Builds the handler. */
export function commitDelta(deps: ServiceDeps): Rpc<"gitaly.DiffService", "CommitDelta"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await validateLeftRight(deps, req);
    const command: GitCommand = {
      name: "diff",
      flags: ["--raw", "--abbrev=40", "--full-index", "--find-renames"],
      args: [req.left_commit_id, req.right_commit_id],
    };
    if (req.paths.length > 0) command.postSepArgs = req.paths.map(text);
    // Gitaly sends a batch once its estimated size passes the threshold
    // (ids, paths and 4 bytes a mode), the delta that crossed it included.
    let batch: Init<CommitDelta>[] = [];
    let size = 0;
    await eachDiff(deps, repoPath, command, {}, ctx.signal, async (diff) => {
      batch.push({
        from_path: diff.fromPath,
        to_path: diff.toPath,
        from_id: diff.fromId,
        to_id: diff.toId,
        old_mode: diff.oldMode,
        new_mode: diff.newMode,
      });
      size += diff.fromId.length + diff.toId.length + 8 + diff.fromPath.byteLength +
        diff.toPath.byteLength;
      if (size > MSG_SIZE_THRESHOLD) {
        await send({ deltas: batch });
        batch = [];
        size = 0;
      }
    });
    if (batch.length > 0) await send({ deltas: batch });
  });
}
