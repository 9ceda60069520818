/**
 * Rebasing without a worktree, as Gitaly's `localrepo.Rebase`: when one
 * side contains the other the result is the newer one (fast-forward);
 * otherwise the branch's own commits (`rev-list --cherry-pick --right-only
 * --no-merges --topo-order --reverse upstream...branch`) are picked one by
 * one onto upstream with merge-tree, keeping each commit's author and
 * message, with the given committer (or the original one). A commit that
 * becomes empty is dropped unless it was empty to begin with.
 *
 * @module
 */
import { type Signature, writeCommit } from "../../git/commit_writer.ts";
import { mergeTree, type MergeTreeConflictError } from "../../git/merge_tree.ts";
import { MergeTreeConflictError as ConflictError } from "../../git/merge_tree.ts";
import { Code, failedPrecondition, wrapError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { readCommit } from "../shared/commits.ts";
import { commitSignature } from "./signature.ts";
import { resolveRevision } from "./start_revision.ts";

/** The empty tree's object id (SHA-1). */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

const decoder = new TextDecoder();

/** A pick of the rebase conflicted. */
export class RebaseConflictError extends Error {
  /** Builds the error with Gitaly's wording. */
  constructor(
    /** The commit whose pick conflicted. */
    readonly commit: string,
    readonly conflict: MergeTreeConflictError,
  ) {
    super(`rebase: commit "${commit}": there are conflicting files`);
    this.name = "RebaseConflictError";
  }
}

/** What {@link rebase} rebases. */
export interface RebaseOptions {
  /** The commit to rebase onto. */
  upstream: string;
  /** The tip of the commits to rebase. */
  branch: string;
  /** The committer of the new commits; each original commit's committer when absent. */
  committer?: Signature;
  /** Extra environment (the quarantine's): new commits go there. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Rebases `branch` onto `upstream` and returns the new tip. Throws
 * {@link RebaseConflictError} on a conflict; `InvalidArgument` for a
 * revision that names no commit, `FailedPrecondition` for unrelated
 * histories.
 */
export async function rebase(
  deps: ServiceDeps,
  repoPath: string,
  options: RebaseOptions,
): Promise<string> {
  const { env, signal } = options;
  const resolve = async (revision: string, what: string) => {
    try {
      return await resolveRevision(deps, repoPath, `${revision}^{commit}`, { env, signal });
    } catch (err) {
      throw wrapError(`resolving ${what} commit`, err, Code.INVALID_ARGUMENT)
        .withField("revision", revision);
    }
  };
  const upstream = await resolve(options.upstream, "upstream");
  const branch = await resolve(options.branch, "branch");
  const base = await deps.git.run({
    gitDir: repoPath,
    command: { name: "merge-base", args: [upstream, branch] },
    env,
    signal,
  });
  if (base.code === 1) {
    // Gitaly answers Internal (`get merge-base: exit status 1`): the request is at fault.
    throw failedPrecondition("branch and upstream share no history");
  }
  if (base.code !== 0) {
    throw new Error(`get merge-base: exit status ${base.code}: ${base.stderr.trim()}`);
  }
  const mergeBase = decoder.decode(base.stdout).trim();
  if (mergeBase === upstream) return branch;
  if (mergeBase === branch) return upstream;
  try {
    return await pickAll(deps, repoPath, upstream, branch, options);
  } catch (err) {
    if (err instanceof RebaseConflictError) throw err;
    throw wrapError("rebase using merge-tree", err);
  }
}

async function pickAll(
  deps: ServiceDeps,
  repoPath: string,
  upstream: string,
  branch: string,
  options: RebaseOptions,
): Promise<string> {
  const { env, signal } = options;
  const { stdout } = await deps.git.runOk({
    gitDir: repoPath,
    command: {
      name: "rev-list",
      flags: ["--cherry-pick", "--right-only", "--no-merges", "--topo-order", "--reverse"],
      // The symmetric difference; with --right-only the commits only the branch has.
      revisions: [`${upstream}...${branch}`],
    },
    env,
    signal,
  });
  const todo = decoder.decode(stdout).split("\n").map((line) => line.trim()).filter(Boolean);
  const read = async (oid: string, what: string) => {
    const commit = await readCommit(deps, repoPath, oid, signal, env);
    if (!commit) throw new Error(`reading ${what} commit: object not found`);
    return commit;
  };
  let ours = upstream;
  let oursTree = (await read(upstream, "upstream")).tree_id;
  for (const oid of todo) {
    const theirs = await read(oid, "todo list");
    let tree: string;
    try {
      ({ tree } = await mergeTree(deps.git, repoPath, {
        ours,
        theirs: theirs.id,
        mergeBase: theirs.parent_ids[0],
        allowUnrelatedHistories: true,
        env,
        signal,
      }));
    } catch (err) {
      if (err instanceof ConflictError) throw new RebaseConflictError(theirs.id, err);
      throw wrapError("merging todo list commit", err);
    }
    if (tree === oursTree) {
      // Unchanged: keep a commit that was empty to begin with, drop one that became empty.
      const before = theirs.parent_ids.length === 0
        ? EMPTY_TREE
        : (await read(theirs.parent_ids[0], "parent")).tree_id;
      if (theirs.tree_id !== before) continue;
    }
    const author = commitSignature(theirs.author);
    ours = await writeCommit(deps.git, repoPath, {
      tree,
      parents: [ours],
      author,
      committer: options.committer ?? commitSignature(theirs.committer),
      // The parsed message, cut at 10 KiB like Gitaly's commit parser cuts it.
      message: theirs.body,
      env,
      signal,
    }).catch((err) => {
      throw wrapError("write commit", err);
    });
    oursTree = tree;
  }
  return ours;
}
