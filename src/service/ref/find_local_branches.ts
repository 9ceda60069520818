import { FindLocalBranchesRequest_SortBy as SortBy } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  BRANCH_RAW_FORMAT,
  branchesOfRecords,
  CommitMemo,
  findingRefs,
  paginationOf,
  sendRefRecords,
} from "./for_each_ref.ts";

const SORT_KEYS: Record<number, string> = {
  [SortBy.NAME]: "refname",
  [SortBy.UPDATED_ASC]: "committerdate",
  [SortBy.UPDATED_DESC]: "-committerdate",
};

/**
 * `FindLocalBranches`: the branches under `refs/heads` with their commits,
 * sorted by name or committer date, paginated (`limit`, `page_token` = the
 * full name of the branch to start after), 20 a message.
 */
export function findLocalBranches(
  deps: ServiceDeps,
): Rpc<"gitaly.RefService", "FindLocalBranches"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const commits = new CommitMemo();
    const sortKey = SORT_KEYS[req.sort_by];
    if (sortKey === undefined) throw invalidArgument(`unsupported sort key: ${req.sort_by}`);
    await findingRefs(
      sendRefRecords(deps, repoPath, {
        flags: [BRANCH_RAW_FORMAT, `--sort=${sortKey}`],
        patterns: ["refs/heads"],
        pagination: paginationOf(req.pagination_params),
        signal: ctx.signal,
        rawObjects: true,
      }, async (records) => {
        const branches = await branchesOfRecords(deps, repoPath, records, ctx.signal, commits);
        await send({
          local_branches: branches.map(({ name, commit }) => ({ name, target_commit: commit })),
        });
      }),
      ctx.signal,
    );
  });
}
