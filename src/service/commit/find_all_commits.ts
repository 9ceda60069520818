/**
 * `FindAllCommits`: `git log` of a revision, or of every branch when the
 * revision is empty, with `max_count`, `skip` and `order`; batched by size.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { FindAllCommitsRequest_Order } from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { sendLoggedCommits } from "./history.ts";

/** Builds the handler. */
export function findAllCommits(deps: ServiceDeps): Rpc<"gitaly.CommitService", "FindAllCommits"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    const revisions = revision !== "" ? [revision] : (await deps.git.runText({
      gitDir: repoPath,
      command: { name: "for-each-ref", flags: ["--format=%(refname)"], args: ["refs/heads/"] },
      signal: ctx.signal,
    })).split("\n").filter((name) => name !== "");
    const flags: string[] = [];
    if (req.max_count > 0) flags.push(`--max-count=${req.max_count}`);
    if (req.skip > 0) flags.push(`--skip=${req.skip}`);
    if (req.order === FindAllCommitsRequest_Order.DATE) flags.push("--date-order");
    if (req.order === FindAllCommitsRequest_Order.TOPO) flags.push("--topo-order");
    await sendLoggedCommits(
      deps,
      repoPath,
      { revisions, flags, signal: ctx.signal },
      (commits) => send({ commits }),
    );
  });
}
