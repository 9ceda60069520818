/**
 * The last commit that touched a path, as Gitaly finds it (`git log
 * --format=%H --max-count=1 <revision> -- <path>`), shared by
 * LastCommitForPath and ListLastCommitsForTree.
 *
 * @module
 */
import type { CommitFields } from "../../git/commit_parser.ts";
import type { ServiceDeps } from "../deps.ts";
import { internal } from "../../server/errors.ts";
import { readCommit } from "../shared/commits.ts";
import { describeExit } from "../shared/git_stream.ts";
import { pathspecArgs } from "./options.ts";

/** The last commit of `revision` touching `path`, or null when there is none. */
export async function lastCommitForPath(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  path: Uint8Array,
  env: Record<string, string> | undefined,
  signal: AbortSignal,
): Promise<CommitFields | null> {
  const pathspec = pathspecArgs(path);
  const result = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "log",
      flags: ["--format=%H", "--max-count=1", ...pathspec.flags],
      args: [revision],
      postSepArgs: pathspec.postSepArgs,
    },
    stdin: pathspec.stdin,
    env,
    signal,
  });
  if (result.code !== 0) {
    const exit = describeExit({ ...result, stderrDropped: 0 });
    throw internal(`logging last commit for path: ${exit}`).withField("stderr", result.stderr);
  }
  const oid = new TextDecoder().decode(result.stdout).trim();
  if (oid === "") return null;
  return await readCommit(deps, repoPath, oid, signal);
}
