/**
 * `LastCommitForPath`: the last commit at or before a revision that
 * changed a path (the whole tree for an empty path or `/`), from
 * `git log --max-count=1`; an empty answer when there is none.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { GrpcError, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { lastCommitIdForPath, readCommitOrNull } from "./history.ts";

/** Builds the handler. */
export function lastCommitForPath(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "LastCommitForPath"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    const literal = req.literal_pathspec || !!req.global_options?.literal_pathspecs;
    const oid = await lastCommitIdForPath(deps, repoPath, {
      revision,
      path: req.path,
      literalPathspecs: literal,
      signal: ctx.signal,
    }).catch((error) => {
      throw error instanceof GrpcError ? error : wrapError("logging last commit for path", error);
    });
    const commit = await readCommitOrNull(deps, repoPath, oid, ctx.signal);
    return commit === null ? {} : { commit };
  });
}
