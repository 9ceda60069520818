/**
 * `FullPath`: the project path GitLab stored in the repository's config
 * (`gitlab.fullpath`).
 *
 * @module
 */
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit } from "../shared/git_stream.ts";

/** The config key GitLab's project path is kept under. */
export const FULL_PATH_KEY = "gitlab.fullpath";

/** Builds the handler. */
export function fullPath(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "FullPath"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const result = await deps.git.run({
      gitDir: repoPath,
      command: { name: "config", args: [FULL_PATH_KEY] },
      signal: ctx.signal,
    });
    if (result.code !== 0) {
      throw internal(`fetch config: ${describeExit({ ...result, stderrDropped: 0 })}`);
    }
    return { path: new TextDecoder().decode(result.stdout).replace(/\n$/, "") };
  });
}
