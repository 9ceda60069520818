/**
 * The merge commit of UserMergeBranch and UserMergeToRef, as Gitaly's
 * `merge` helper writes it: `git merge-tree --write-tree` of the two
 * sides (unrelated histories allowed, conflicts by name only), then a
 * commit of that tree with both sides as parents, ours first, and the
 * user as author and committer.
 *
 * @module
 */
import {
  type Signature,
  type TimestampLike,
  type UserLike,
  writeCommit,
} from "../../git/commit_writer.ts";
import { mergeTree } from "../../git/merge_tree.ts";
import type { ServiceDeps } from "../deps.ts";
import { userSignature } from "./signature.ts";

/**
 * The user's signature at the request's `timestamp` (or now), as Gitaly's
 * `dateFromProto` ({@link userSignature}), also for a user whose unset
 * bytes fields decoded as empty arrays.
 */
export function requestSignature(
  user: UserLike | null | undefined,
  timestamp: TimestampLike | null | undefined,
): Signature {
  return userSignature(user, timestamp);
}

/** What {@link createMergeCommit} merges. */
export interface MergeCommitOptions {
  /** Our side (an object id): the first parent. */
  ours: string;
  /** Their side (an object id): the second parent. */
  theirs: string;
  /** Author and committer. */
  signature: Signature;
  message: Uint8Array | string;
  /** The quarantine's environment: where the new objects go. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Merges `theirs` into `ours` and returns the merge commit's id. Throws
 * `MergeTreeConflictError` on conflicts; other failures are plain errors
 * (a failed commit as `create commit from tree: …`).
 */
export async function createMergeCommit(
  deps: ServiceDeps,
  gitDir: string,
  options: MergeCommitOptions,
): Promise<string> {
  const { tree } = await mergeTree(deps.git, gitDir, {
    ours: options.ours,
    theirs: options.theirs,
    allowUnrelatedHistories: true,
    nameOnly: true,
    env: options.env,
    signal: options.signal,
  });
  try {
    return await writeCommit(deps.git, gitDir, {
      tree,
      parents: [options.ours, options.theirs],
      author: options.signature,
      committer: options.signature,
      message: options.message,
      env: options.env,
      signal: options.signal,
    });
  } catch (error) {
    throw new Error(`create commit from tree: ${(error as Error).message}`, { cause: error });
  }
}
