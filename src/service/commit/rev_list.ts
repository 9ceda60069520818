/**
 * Gitaly's rev-list → cat-file pipeline for commits: `git rev-list` lists
 * commit ids, which go straight on to one `cat-file --batch`; the commits
 * come back in order and are sent in messages batched by size, starting
 * after a page token and stopping at a limit.
 *
 * @module
 */
import { parseCommit } from "../../git/commit_parser.ts";
import type { EncodedResponses } from "../../proto/encoded_responses.ts";
import { encodeGitCommit } from "../../proto/git_commit_encoder.ts";
import type { ServiceDeps } from "../deps.ts";
import { EncodedChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";
import { catFileObjects } from "./object_pipe.ts";

/** What {@link listRevisions} lists. */
export interface RevListOptions {
  /** rev-list's options (ours, and pseudo revisions). */
  flags: string[];
  /** Revisions (validated; none starts with `-`). */
  args: string[];
  /** Commits up to and including this id are skipped ("" for none). */
  pageToken: string;
  /** At most this many commits when positive. */
  limit: number;
  signal: AbortSignal;
}

/** rev-list failed; the message is Gitaly's (`rev-list pipeline command: exit status 128, stderr: "…"`). */
export class RevListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RevListError";
  }
}

/**
 * Runs the pipeline, sending batches of commits to `send` as encoded
 * messages whose field 1 holds them (`ListCommitsResponse.commits`).
 */
export async function listRevisions(
  deps: ServiceDeps,
  repoPath: string,
  options: RevListOptions,
  send: (message: EncodedResponses) => Promise<void>,
): Promise<void> {
  const chunker = new EncodedChunker(1, send); // ListCommitsResponse.commits
  // rev-list prints one commit id a line, which is just what cat-file reads:
  // its stdout goes to cat-file's stdin as it is.
  const revList = await deps.git.start({
    gitDir: repoPath,
    command: { name: "rev-list", flags: options.flags, args: options.args },
    stdout: "piped",
    signal: options.signal,
  });
  let waitingForToken = options.pageToken !== "";
  let sent = 0;
  let stopped = false;
  let failed = true;
  try {
    await catFileObjects(deps, repoPath, options.signal, revList.stdout, (object) => {
      if (object === null) throw new Error("rev-list listed a commit cat-file does not have");
      if (waitingForToken) {
        waitingForToken = object.oid !== options.pageToken;
        return;
      }
      if (options.limit > 0 && sent >= options.limit) {
        stopped = true;
        return false;
      }
      sent++;
      return chunker.add(encodeGitCommit(parseCommit(object.oid, object.data)));
    }, true); // borrowed data: encoded at once
    failed = false;
  } finally {
    // Stopped at the limit, failed or aborted: rev-list must not outlive the call.
    if (failed || stopped) {
      revList.kill();
      await revList.wait();
    }
  }
  if (!stopped) {
    const exit = await revList.wait();
    if (exit.code !== 0) {
      throw new RevListError(
        `rev-list pipeline command: ${describeExit(exit)}, stderr: ${JSON.stringify(exit.stderr)}`,
      );
    }
  }
  await chunker.flush();
}
