/**
 * `FindCommit`: the commit a revision peels to, with its trailers when
 * asked; an empty answer when the revision names no commit.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit, readCommitWithTrailers } from "../shared/commits.ts";

/** Builds the handler. */
export function findCommit(deps: ServiceDeps): Rpc<"gitaly.CommitService", "FindCommit"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    const read = req.trailers ? readCommitWithTrailers : readCommit;
    const commit = await read(deps, repoPath, revision, ctx.signal);
    return commit === null ? {} : { commit };
  });
}
