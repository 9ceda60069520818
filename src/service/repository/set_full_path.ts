/**
 * `SetFullPath`: stores GitLab's project path in the repository's config
 * (`gitlab.fullpath`).
 *
 * @module
 */
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit } from "../shared/git_stream.ts";
import { FULL_PATH_KEY } from "./full_path.ts";

/** Builds the handler. */
export function setFullPath(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "SetFullPath"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.path.length === 0) throw invalidArgument("no path provided");
    // After `--`, so a path starting with `-` is a value, not an option.
    const set = await deps.git.run({
      gitDir: repoPath,
      command: { name: "config", flags: ["--replace-all"], postSepArgs: [FULL_PATH_KEY, req.path] },
      signal: ctx.signal,
    });
    if (set.code !== 0) {
      throw internal(`setting config: ${describeExit({ ...set, stderrDropped: 0 })}`);
    }
    return {};
  });
}
