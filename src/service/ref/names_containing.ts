/**
 * What `ListBranchNamesContainingCommit` and `ListTagNamesContainingCommit`
 * share: the names of the references under a prefix whose history contains
 * a commit, batched like Gitaly's chunker batches them.
 *
 * @module
 */
import { GitCommandError } from "../../git/command.ts";
import { hexProblem, readObjectFormat } from "../../git/objectid.ts";
import type { Repository } from "../../proto/types.ts";
import { invalidArgument, notFound, wrapError } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { forEachGitLine } from "../shared/git_lines.ts";

const INT_MAX = 2 ** 31 - 1;

/** A request of either RPC. */
export interface ContainingRequest {
  repository?: Repository | null;
  commit_id: string;
  limit: number;
}

/**
 * Sends, in batches, the names (without `prefix`) of the references under
 * `prefix` whose history contains the request's commit, at most `limit`
 * of them (0, or more than git can count: all), sorted by name.
 *
 * The commit id must be a full hex id of the repository's format
 * (`InvalidArgument` otherwise, as Gitaly). Where Gitaly fails with
 * `Internal`, an unknown commit is `NotFound` and an object that is no
 * commit (nor a tag of one) `InvalidArgument`.
 */
export async function sendNamesContaining(
  deps: ServiceDeps,
  req: ContainingRequest,
  ctx: CallContext,
  prefix: "refs/heads/" | "refs/tags/",
  sendBatch: (names: Uint8Array[]) => Promise<void>,
): Promise<void> {
  const repoPath = await deps.locator.repoPath(req.repository);
  const hash = await readObjectFormat(repoPath).catch((error) => {
    throw wrapError("detecting object hash", error);
  });
  const problem = hexProblem(req.commit_id ?? "", hash);
  if (problem) throw invalidArgument(problem);

  const flags = ["--format=%(refname)", `--contains=${req.commit_id}`];
  // git takes a count up to INT_MAX; a larger one (what a negative limit
  // becomes as uint32) is no limit here, where Gitaly fails with Internal.
  if (req.limit && req.limit <= INT_MAX) flags.push(`--count=${req.limit}`);
  const git = await deps.git.start({
    gitDir: repoPath,
    command: { name: "for-each-ref", flags, args: [prefix.slice(0, -1)] },
    signal: ctx.signal,
  });
  // Gitaly sizes each name as a StringValue holding the full reference name.
  const chunker = new SizeChunker<Uint8Array>(
    (name) => stringValueSize(name.byteLength + prefix.length),
    sendBatch,
  );
  await forEachGitLine(git, ["for-each-ref", ...flags], (line) => {
    return chunker.add(line.subarray(prefix.length));
  }).catch((error) => {
    throw error instanceof GitCommandError ? containsError(error) : error;
  });
  await chunker.flush();
}

/** The encoded size of a `google.protobuf.StringValue` holding `length` bytes. */
function stringValueSize(length: number): number {
  if (length === 0) return 0;
  let varint = 1;
  for (let n = length; n >= 0x80; n >>>= 7) varint++;
  return 1 + varint + length;
}

function containsError(error: GitCommandError): Error {
  const notCommit = /^error: (object \S+ is a \w+, not a commit)$/m.exec(error.stderr);
  if (notCommit) return invalidArgument(notCommit[1]);
  const missing = /^error: (no such commit \S+)$/m.exec(error.stderr);
  if (missing) return notFound(missing[1]);
  return error;
}
