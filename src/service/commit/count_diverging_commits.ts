/**
 * `CountDivergingCommits`: how many commits `from` has that `to` has not
 * (left) and the other way round (right), by `git rev-list --count
 * --left-right from...to`, optionally with `--max-count`.
 *
 * @module
 */
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { describeExit } from "../shared/git_stream.ts";

/** Builds the handler. */
export function countDivergingCommits(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "CountDivergingCommits"> {
  return unary(async (req, ctx) => {
    if (!req.from?.length || !req.to?.length) {
      throw invalidArgument("from and to are both required");
    }
    const gitDir = await deps.locator.repoPath(req.repository);
    const flags = ["--count", "--left-right"];
    if (req.max_count) flags.push(`--max-count=${req.max_count}`);
    const result = await deps.git.run({
      gitDir,
      command: { name: "rev-list", flags, args: [`${text(req.from)}...${text(req.to)}`] },
      signal: ctx.signal,
    });
    if (result.code !== 0) {
      const exit = describeExit({ ...result, stderrDropped: 0 });
      throw internal(`gi rev-list error: ${exit}`).withField("stderr", result.stderr);
    }
    const counts = new TextDecoder().decode(result.stdout).trim().split(/\s+/);
    if (counts.length !== 2) {
      throw internal(`invalid output from git rev-list --left-right: ${text(result.stdout)}`);
    }
    return { left_count: Number(counts[0]), right_count: Number(counts[1]) };
  });
}
