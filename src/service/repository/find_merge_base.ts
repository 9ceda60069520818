/**
 * `FindMergeBase`: the best common ancestor of two or more revisions, or
 * an empty answer when there is none (or a revision does not resolve), as
 * Gitaly answers.
 *
 * @module
 */
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** Builds the handler. */
export function findMergeBase(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "FindMergeBase"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revisions = req.revisions.map(text);
    if (revisions.length < 2) throw invalidArgument("at least 2 revisions are required");
    const result = await deps.git.run({
      gitDir: repoPath,
      command: { name: "merge-base", args: revisions },
      signal: ctx.signal,
    });
    if (result.code !== 0) return { base: "" };
    return { base: new TextDecoder().decode(result.stdout).replace(/\n$/, "") };
  });
}
