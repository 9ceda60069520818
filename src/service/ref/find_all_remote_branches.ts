import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  BRANCH_RAW_FORMAT,
  branchesOfRecords,
  CommitMemo,
  findingRefs,
  sendRefRecords,
  validateRefArgument,
} from "./for_each_ref.ts";

/**
 * `FindAllRemoteBranches`: the branches under `refs/remotes/<remote_name>`
 * with their commits, 20 a message.
 */
export function findAllRemoteBranches(
  deps: ServiceDeps,
): Rpc<"gitaly.RefService", "FindAllRemoteBranches"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const commits = new CommitMemo();
    if (req.remote_name === "") throw invalidArgument("empty RemoteName");
    validateRefArgument(req.remote_name, "remote name", true);
    await findingRefs(
      sendRefRecords(deps, repoPath, {
        flags: [BRANCH_RAW_FORMAT],
        patterns: [`refs/remotes/${req.remote_name}`],
        signal: ctx.signal,
        rawObjects: true,
      }, async (records) => {
        const branches = await branchesOfRecords(deps, repoPath, records, ctx.signal, commits);
        await send({
          branches: branches.map(({ name, commit }) => ({ name, target_commit: commit })),
        });
      }),
      ctx.signal,
    );
  });
}
