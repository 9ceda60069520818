import { bytesFieldSize, fieldSize, withResponseFrames } from "../../proto/encoded.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import {
  BRANCH_RAW_FORMAT,
  CommitMemo,
  defaultBranch,
  encodedBranchesOfRecords,
  findingRefs,
  sendRefRecords,
  validateRefArgument,
} from "./for_each_ref.ts";

/**
 * `FindAllBranches`: local and remote-tracking branches with their commits,
 * 20 a message (encoded by hand, many messages a write); with `merged_only` only those merged into the default
 * branch, and with `merged_branches` too only those among the given names.
 */
export function findAllBranches(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindAllBranches"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const commits = new CommitMemo();
    const flags = [BRANCH_RAW_FORMAT];
    let patterns = ["refs/heads", "refs/remotes"];
    if (req.merged_only) {
      const merged = await defaultBranch(deps, repoPath, ctx.signal);
      // Without branches nothing is merged (Gitaly fails running `--merged=`).
      if (merged === "") return;
      flags.push(`--merged=${merged}`);
      if (req.merged_branches.length > 0) {
        patterns = req.merged_branches.map((name) => text(name));
        for (const pattern of patterns) validateRefArgument(pattern, "merged branch");
      }
    }
    await withResponseFrames(send, (frames) =>
      findingRefs(
        sendRefRecords(
          deps,
          repoPath,
          { flags, patterns, signal: ctx.signal, rawObjects: true, idle: () => frames.flush(send) },
          async (records) => {
            const branches = await encodedBranchesOfRecords(
              deps,
              repoPath,
              records,
              ctx.signal,
              commits,
            );
            const w = frames.begin();
            for (const { name, commit } of branches) {
              w.header(1, bytesFieldSize(1, name) + fieldSize(2, commit.byteLength));
              w.bytes(1, name);
              w.header(2, commit.byteLength);
              w.raw(commit);
            }
            frames.end();
            if (frames.full) await frames.flush(send);
          },
        ),
        ctx.signal,
      ));
  });
}
