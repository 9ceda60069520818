/**
 * `LastCommitForPath`: the last commit of `revision` that touched `path`
 * (the whole tree for an empty path or `/`); an empty response when there
 * is none. `literal_pathspec` and `global_options.literal_pathspecs` turn
 * off pathspec magic.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { lastCommitForPath as findLast } from "./last_commits.ts";
import { globalOptionsEnv } from "./options.ts";

/** Builds the handler. */
export function lastCommitForPath(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "LastCommitForPath"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    let path = req.path ?? new Uint8Array(0);
    if (text(path) === "" || text(path) === "/") path = new TextEncoder().encode(".");
    const literal = req.literal_pathspec || req.global_options?.literal_pathspecs;
    const env = globalOptionsEnv({ literal_pathspecs: !!literal });
    const commit = await findLast(deps, repoPath, revision, path, env, ctx.signal);
    return commit ? { commit } : {};
  });
}
