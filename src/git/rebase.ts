/**
 * Rebasing without a worktree, as Gitaly's `localrepo.Rebase`: if one side
 * contains the other the result is the newer one (a fast-forward);
 * otherwise the commits of the branch that upstream lacks (`git rev-list
 * --cherry-pick --right-only --no-merges --topo-order --reverse
 * upstream...branch`: clean cherry-picks of upstream commits and merges
 * dropped) are replayed one by one on top of upstream, each a three-way
 * merge against its first parent ({@link mergeTree}'s `mergeBase`), and
 * committed with the original author and message and the given committer.
 * A commit that becomes empty is dropped; one that was empty to begin with
 * is kept, as `git rebase` does by default.
 *
 * @module
 */
import type { GitRunner } from "./command.ts";
import type { AuthorFields, CommitFields } from "./commit_parser.ts";
import { type Signature, writeCommit } from "./commit_writer.ts";
import { mergeTree, MergeTreeConflictError } from "./merge_tree.ts";

const decoder = new TextDecoder();

/** What {@link rebase} replays and how. */
export interface RebaseOptions {
  /** The commit to rebase onto (an object id). */
  upstream: string;
  /** The tip of the commits to rebase (an object id). */
  branch: string;
  /** Committer of every rewritten commit. */
  committer: Signature;
  /** Empty tree id of the repository's object format. */
  emptyTree: string;
  /**
   * Reads a commit (`revision^{commit}`) of the repository, or null;
   * the commits read are all older than the rebase.
   */
  readCommit: (revision: string) => Promise<CommitFields | null>;
  /** Environment for the commands that write objects (a quarantine). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** A replayed commit conflicts with what it is replayed onto. */
export class RebaseConflictError extends Error {
  /** Builds the error; the message is Gitaly's. */
  constructor(
    /** The commit that could not be replayed. */
    readonly commit: string,
    /** The merge's conflicts. */
    readonly conflict: MergeTreeConflictError,
  ) {
    super(`rebase: commit "${commit}": there are conflicting files`);
    this.name = "RebaseConflictError";
  }
}

/** The two commits share no history (Gitaly: `get merge-base: exit status 1`). */
export class RebaseUnrelatedHistoryError extends Error {
  /** Builds the error. */
  constructor() {
    super("get merge-base: exit status 1");
    this.name = "RebaseUnrelatedHistoryError";
  }
}

/**
 * Rebases `branch` onto `upstream` and returns the new tip; see the module
 * documentation. Throws {@link RebaseConflictError} or
 * {@link RebaseUnrelatedHistoryError}.
 */
export async function rebase(
  git: GitRunner,
  gitDir: string,
  options: RebaseOptions,
): Promise<string> {
  const { upstream, branch, signal } = options;
  const base = await git.run({
    gitDir,
    command: { name: "merge-base", args: [upstream, branch] },
    env: options.env,
    signal,
  });
  if (base.code === 1) throw new RebaseUnrelatedHistoryError();
  if (base.code !== 0) {
    throw new Error(`get merge-base: exit status ${base.code}: ${base.stderr.trim()}`);
  }
  const mergeBase = decoder.decode(base.stdout).trim();
  if (mergeBase === upstream) return branch;
  if (mergeBase === branch) return upstream;

  const todo = await git.runOk({
    gitDir,
    command: {
      name: "rev-list",
      flags: ["--cherry-pick", "--right-only", "--no-merges", "--topo-order", "--reverse"],
      revisions: [`${upstream}...${branch}`],
    },
    env: options.env,
    signal,
  });
  const picks = decoder.decode(todo.stdout).split("\n").map((line) => line.trim()).filter(
    Boolean,
  );

  const upstreamCommit = await mustRead(options, upstream, "upstream");
  let ours = upstream;
  let oursTree = upstreamCommit.tree_id;
  for (const pick of picks) {
    const theirs = await mustRead(options, pick, "todo list");
    const parent = theirs.parent_ids[0];
    let tree: string;
    try {
      ({ tree } = await mergeTree(git, gitDir, {
        ours,
        theirs: theirs.id,
        mergeBase: parent,
        allowUnrelatedHistories: true,
        env: options.env,
        signal,
      }));
    } catch (error) {
      if (error instanceof MergeTreeConflictError) throw new RebaseConflictError(theirs.id, error);
      throw new Error(`merging todo list commit: ${(error as Error).message}`, { cause: error });
    }
    if (tree === oursTree && !(await wasEmpty(options, theirs))) continue;
    ours = await writeCommit(git, gitDir, {
      tree,
      parents: [ours],
      author: signatureOf(theirs.author),
      committer: options.committer,
      message: theirs.body,
      env: options.env,
      signal,
    });
    oursTree = tree;
  }
  return ours;
}

/** Whether `commit` changed nothing compared to its first parent (or, a root, has the empty tree). */
async function wasEmpty(options: RebaseOptions, commit: CommitFields): Promise<boolean> {
  const parent = commit.parent_ids[0];
  if (parent === undefined) return commit.tree_id === options.emptyTree;
  return (await mustRead(options, parent, "parent")).tree_id === commit.tree_id;
}

async function mustRead(options: RebaseOptions, oid: string, what: string): Promise<CommitFields> {
  const commit = await options.readCommit(oid);
  if (!commit) throw new Error(`reading ${what} commit: object not found: ${oid}`);
  return commit;
}

/**
 * The signature of a commit's author as Gitaly rebuilds it: the date (now
 * when there is none) in the zone the line gives, UTC when the zone is not
 * five characters or does not parse as `±hhmm`.
 */
export function signatureOf(author: AuthorFields | null): Signature {
  return {
    name: gitUtf8(author?.name ?? new Uint8Array()),
    email: gitUtf8(author?.email ?? new Uint8Array()),
    seconds: author?.date ? author.date.seconds : Math.floor(Date.now() / 1000),
    offsetMinutes: zoneOffset(decoder.decode(author?.timezone ?? new Uint8Array())),
  };
}

/** Minutes east of UTC of a `±hhmm` zone as Go's `time.Parse("-0700", …)` reads it; 0 otherwise. */
function zoneOffset(zone: string): number {
  const match = /^([+-])(\d\d)(\d\d)$/.exec(zone);
  if (!match) return 0;
  const [hours, minutes] = [Number(match[2]), Number(match[3])];
  if (hours > 24 || minutes > 60) return 0;
  const offset = hours * 60 + minutes;
  return match[1] === "-" ? -offset : offset;
}

/**
 * `bytes` as the text git ends up writing for them: Gitaly hands an
 * author's raw bytes to `git commit-tree`, which rewrites every byte that
 * is not part of valid UTF-8 as the Latin-1 character it would be (git's
 * `verify_utf8`); the environment here takes only text, so the rewriting
 * is done before.
 */
export function gitUtf8(bytes: Uint8Array): string {
  let out = "";
  let at = 0;
  while (at < bytes.length) {
    const length = utf8SequenceLength(bytes, at);
    if (length === 0) {
      out += String.fromCharCode(bytes[at]);
      at++;
    } else {
      out += decoder.decode(bytes.subarray(at, at + length));
      at += length;
    }
  }
  return out;
}

const MAX_CODEPOINT = [0x7f, 0x7ff, 0xffff, 0x10ffff];

/** The length of the valid UTF-8 sequence at `at` by git's rules, or 0 when it is invalid. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  let c = bytes[at];
  if (c < 0x80) return 1;
  let more = 0;
  while (c & 0x40) {
    c = (c << 1) & 0xff;
    more++;
  }
  if (more < 1 || more > 3 || at + more >= bytes.length) return 0;
  let codepoint = (c & 0x7f) >> more;
  for (let i = 1; i <= more; i++) {
    const next = bytes[at + i];
    if ((next & 0xc0) !== 0x80) return 0;
    codepoint = (codepoint << 6) | (next & 0x3f);
  }
  if (codepoint <= MAX_CODEPOINT[more - 1] || codepoint > MAX_CODEPOINT[more]) return 0;
  if ((codepoint & 0x1ff800) === 0xd800) return 0;
  if ((codepoint & 0xfffe) === 0xfffe) return 0;
  if (codepoint >= 0xfdd0 && codepoint <= 0xfdef) return 0;
  return more + 1;
}
