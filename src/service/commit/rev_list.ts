/**
 * Gitaly's rev-list → cat-file pipeline for commits: `git rev-list` lists
 * commit ids, which go straight on to one `cat-file --batch`; the commits
 * come back in order and are sent in messages batched by size, starting
 * after a page token and stopping at a limit.
 *
 * @module
 */
import { parseCommit } from "../../git/commit_parser.ts";
import type { EncodedMessage } from "../../proto/encoded_message.ts";
import { encodeGitCommit } from "../../proto/git_commit_encoder.ts";
import type { ServiceDeps } from "../deps.ts";
import { EncodedChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";
import { chomp, recordSource } from "./history.ts";
import { type PipedRequest, pipeObjects } from "./object_pipe.ts";

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

/**
 * Runs the pipeline, sending batches of commits to `send` as encoded
 * messages whose field 1 holds them (`ListCommitsResponse.commits`).
 */
export async function listRevisions(
  deps: ServiceDeps,
  repoPath: string,
  options: RevListOptions,
  send: (message: EncodedMessage) => Promise<void>,
): Promise<void> {
  const chunker = new EncodedChunker(1, send); // ListCommitsResponse.commits
  const source = recordSource(deps, {
    gitDir: repoPath,
    command: { name: "rev-list", flags: options.flags, args: options.args },
    signal: options.signal,
  });
  async function* ids(): AsyncGenerator<PipedRequest<null>, void, undefined> {
    let waitingForToken = options.pageToken !== "";
    for await (const record of source.records) {
      const oid = decoder.decode(chomp(record));
      if (waitingForToken) {
        waitingForToken = oid !== options.pageToken;
        continue;
      }
      yield { id: oid, extra: null };
    }
  }
  let sent = 0;
  let stopped = false;
  await pipeObjects(deps, repoPath, options.signal, ids(), (object) => {
    if (options.limit > 0 && sent >= options.limit) {
      stopped = true;
      return false;
    }
    if (object === null) throw new Error("rev-list listed a commit cat-file does not have");
    sent++;
    return chunker.add(encodeGitCommit(parseCommit(object.oid, object.data)));
  });
  if (!stopped) {
    const exit = await source.exit;
    if (!exit.stopped && exit.code !== 0) {
      throw new RevListError(
        `rev-list pipeline command: ${describeExit(exit)}, stderr: ${JSON.stringify(exit.stderr)}`,
      );
    }
  }
  await chunker.flush();
}
