/**
 * `ListCommits`: the commits `git rev-list` lists for the revisions (with
 * `^`, `--not` and other pseudo revisions), with its ordering, walk and
 * filter options, after the page token and up to the page limit, batched
 * by size.
 *
 * @module
 */
import { ListCommitsRequest_Order } from "../../proto/types.ts";
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { timeFlag } from "./history.ts";
import { listRevisions, RevListError } from "./rev_list.ts";
import { revisionArgs } from "./revision_list.ts";

/** Builds the handler. */
export function listCommits(deps: ServiceDeps): Rpc<"gitaly.CommitService", "ListCommits"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.revisions.length === 0) throw invalidArgument("missing revisions");
    const revisions = revisionArgs(req.revisions);
    const flags: string[] = [];
    if (req.order === ListCommitsRequest_Order.TOPO) flags.push("--topo-order");
    if (req.order === ListCommitsRequest_Order.DATE) flags.push("--date-order");
    if (req.reverse) flags.push("--reverse");
    if (req.max_parents > 0) flags.push(`--max-parents=${req.max_parents}`);
    if (req.disable_walk) flags.push("--no-walk");
    if (req.first_parent) flags.push("--first-parent");
    if (req.before) flags.push(timeFlag("--before", req.before));
    if (req.after) flags.push(timeFlag("--after", req.after));
    if (req.author.length > 0) flags.push(`--author=${text(req.author)}`);
    if (req.ignore_case) flags.push("--regexp-ignore-case");
    for (const pattern of req.commit_message_patterns) flags.push(`--grep=${text(pattern)}`);
    await listRevisions(deps, repoPath, {
      flags: [...flags, ...revisions.flags],
      args: revisions.args,
      pageToken: req.pagination_params?.page_token ?? "",
      limit: req.pagination_params?.limit ?? 0,
      signal: ctx.signal,
    }, send).catch((error) => {
      throw error instanceof RevListError ? wrapError("iterating objects", error) : error;
    });
  });
}
