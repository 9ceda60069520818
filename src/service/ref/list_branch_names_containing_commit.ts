/**
 * `ListBranchNamesContainingCommit`.
 *
 * @module
 */
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sendNamesContaining } from "./names_containing.ts";

/**
 * `ListBranchNamesContainingCommit`: the names (without `refs/heads/`) of
 * the branches whose history contains `commit_id`, at most `limit` (0: no
 * limit), sorted, in messages of up to 1 MiB as Gitaly sends them.
 */
export function listBranchNamesContainingCommit(
  deps: ServiceDeps,
): Rpc<"gitaly.RefService", "ListBranchNamesContainingCommit"> {
  return serverStream(async (req, ctx, send) => {
    await sendNamesContaining(
      deps,
      req,
      ctx,
      "refs/heads/",
      (branch_names) => send({ branch_names }),
    );
  });
}
