/**
 * `CommitIsAncestor`: whether `ancestor_id` is an ancestor of `child_id`
 * (`git merge-base --is-ancestor`); any failure of git, such as an unknown
 * revision, answers false, as in Gitaly.
 *
 * @module
 */
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function commitIsAncestor(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "CommitIsAncestor"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    if (!req.ancestor_id) throw invalidArgument("empty ancestor sha");
    if (!req.child_id) throw invalidArgument("empty child sha");
    const { code } = await deps.git.run({
      gitDir,
      command: {
        name: "merge-base",
        flags: ["--is-ancestor"],
        args: [req.ancestor_id, req.child_id],
      },
      signal: ctx.signal,
    });
    return { value: code === 0 };
  });
}
