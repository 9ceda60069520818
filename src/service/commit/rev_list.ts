/**
 * Gitaly's rev-list → cat-file pipeline for commits: `git rev-list` lists
 * commit ids, each is read through the cat-file cache and sent in messages
 * batched by size, starting after a page token and stopping at a limit.
 *
 * @module
 */
import type { GitCommit, Init } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";
import { chomp, commitForId, forEachRecord } from "./history.ts";

const decoder = new TextDecoder();

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

/** Runs the pipeline, sending batches of commits to `send`. */
export async function listRevisions(
  deps: ServiceDeps,
  repoPath: string,
  options: RevListOptions,
  send: (commits: Init<GitCommit>[]) => Promise<void>,
): Promise<void> {
  const chunker = new SizeChunker<Init<GitCommit>>("gitaly.GitCommit", send);
  let waitingForToken = options.pageToken !== "";
  let sent = 0;
  const exit = await forEachRecord(deps, {
    gitDir: repoPath,
    command: { name: "rev-list", flags: options.flags, args: options.args },
    signal: options.signal,
  }, async (record) => {
    const oid = decoder.decode(chomp(record));
    if (waitingForToken) {
      waitingForToken = oid !== options.pageToken;
      return;
    }
    if (options.limit > 0 && sent >= options.limit) return false;
    await chunker.add(await commitForId(deps, repoPath, oid, options.signal));
    sent++;
  });
  if (!exit.stopped && exit.code !== 0) {
    throw new RevListError(
      `rev-list pipeline command: ${describeExit(exit)}, stderr: ${JSON.stringify(exit.stderr)}`,
    );
  }
  await chunker.flush();
}
