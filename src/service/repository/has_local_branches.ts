/**
 * `HasLocalBranches`: whether a repository has at least one branch
 * (`refs/heads/*`).
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function hasLocalBranches(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "HasLocalBranches"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const { stdout } = await deps.git.runOk({
      gitDir,
      args: ["for-each-ref", "--count=1", "--format=%(refname)", "refs/heads/"],
      signal: ctx.signal,
    });
    return { value: stdout.length > 0 };
  });
}
