/**
 * `CountCommits`: `git rev-list --count` over `revision` (or `--all`),
 * filtered by `before`/`after`, `max_count`, `first_parent` and `path`.
 * As in Gitaly, a failing rev-list (an unknown revision) counts 0.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { globalOptionsEnv, pathspecArgs, timestampFlag } from "./options.ts";

/** Builds the handler. */
export function countCommits(deps: ServiceDeps): Rpc<"gitaly.CommitService", "CountCommits"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    if (revision === "" && !req.all) throw invalidArgument("empty Revision and false All");

    const flags = ["--count"];
    if (req.all) flags.push("--all");
    if (req.before) flags.push(timestampFlag("--before", req.before));
    if (req.after) flags.push(timestampFlag("--after", req.after));
    if (req.max_count) flags.push(`--max-count=${req.max_count}`);
    if (req.first_parent) flags.push("--first-parent");
    const pathspec = req.path?.length ? pathspecArgs(req.path) : undefined;
    const result = await deps.git.run({
      gitDir,
      command: {
        name: "rev-list",
        flags: [...flags, ...pathspec?.flags ?? []],
        args: req.all ? [] : [revision],
        postSepArgs: pathspec?.postSepArgs,
      },
      stdin: pathspec?.stdin,
      env: globalOptionsEnv(req.global_options),
      signal: ctx.signal,
    });
    if (result.code !== 0) return { count: 0 };
    const count = Number(new TextDecoder().decode(result.stdout).trim());
    return { count };
  });
}
