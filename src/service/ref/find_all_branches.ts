import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import {
  BRANCH_RAW_FORMAT,
  branchesOfRecords,
  CommitMemo,
  defaultBranch,
  findingRefs,
  sendRefRecords,
  validateRefArgument,
} from "./for_each_ref.ts";

/**
 * `FindAllBranches`: local and remote-tracking branches with their commits,
 * 20 a message; with `merged_only` only those merged into the default
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
    await findingRefs(
      sendRefRecords(
        deps,
        repoPath,
        { flags, patterns, signal: ctx.signal, rawObjects: true },
        async (records) => {
          const branches = await branchesOfRecords(deps, repoPath, records, ctx.signal, commits);
          await send({ branches: branches.map(({ name, commit }) => ({ name, target: commit })) });
        },
      ),
      ctx.signal,
    );
  });
}
