/**
 * What the DiffService RPCs share: the left/right request check and one
 * `git diff` run whose output is parsed file by file.
 *
 * @module
 */
import type { GitCommand } from "../../git/command.ts";
import { type DiffLimits, type ParsedDiff, parseDiffs } from "../../git/diff_parser.ts";
import { readObjectFormat } from "../../git/objectid.ts";
import type { Repository } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit } from "../shared/git_stream.ts";

/** A request naming a repository and two commits. */
export interface LeftRightRequest {
  repository?: Repository | null;
  left_commit_id: string;
  right_commit_id: string;
}

/**
 * Checks the repository and both commit ids as Gitaly does (InvalidArgument
 * for an empty one) and returns the repository's path.
 */
export async function validateLeftRight(deps: ServiceDeps, req: LeftRightRequest): Promise<string> {
  const repoPath = await deps.locator.repoPath(req.repository);
  if (req.left_commit_id === "") throw invalidArgument("empty LeftCommitId");
  if (req.right_commit_id === "") throw invalidArgument("empty RightCommitId");
  return repoPath;
}

/**
 * Runs `command` (a `git diff` with `--raw`) and calls `each` for every
 * parsed file, with backpressure; a failed git is `FailedPrecondition`
 * with Go's wording of its exit, as in Gitaly. `flush` (if given) runs
 * whenever the parser waits for git (see `parseDiffs`), and after the last file
 * (before any error is reported): a caller that batches its responses
 * sends what it holds there.
 */
export async function eachDiff(
  deps: ServiceDeps,
  repoPath: string,
  command: GitCommand,
  limits: DiffLimits,
  signal: AbortSignal,
  each: (diff: ParsedDiff) => Promise<void>,
  flush?: () => Promise<void>,
): Promise<void> {
  const hash = await readObjectFormat(repoPath);
  const git = await deps.git.start({
    gitDir: repoPath,
    command,
    config: [{ key: "diff.noprefix", value: "false" }],
    signal,
  });
  try {
    for await (const diff of parseDiffs(git.stdout, limits, hash.hexLength, flush)) {
      await each(diff);
    }
    await flush?.();
  } catch (error) {
    git.kill();
    await git.wait();
    signal.throwIfAborted();
    if (flush && !(error instanceof GrpcError)) await flush();
    throw wrapError("parse failure", error);
  }
  const exit = await git.wait();
  signal.throwIfAborted();
  if (exit.code !== 0) {
    throw new GrpcError(Code.FAILED_PRECONDITION, describeExit(exit), {
      fields: { "git.stderr": exit.stderr },
    });
  }
}
