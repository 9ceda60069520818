/**
 * `UserRevert`: undoes what a commit changed (against its first parent) on
 * top of a branch, as a new commit by the user, and moves the branch there
 * through the hooks. Conflicts, an empty result, a diverged branch and a
 * hook's refusal are answered in the response's `create_tree_error`,
 * `commit_error` and `pre_receive_error`, as in Gitaly.
 *
 * @module
 */
import { writeCommit } from "../../git/commit_writer.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import { UserRevertResponse_CreateTreeError } from "../../proto/types.ts";
import { internal, notFound } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit } from "../shared/commits.ts";
import {
  landPick,
  oldRevision,
  pickStart,
  validateCherryPickOrRevert,
} from "./cherry_pick_revert.ts";
import { withQuarantine } from "./quarantine.ts";

/** The empty tree's object id (SHA-1). */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** Who the stand-in parent of a reverted root commit is from (Gitaly's fixed values). */
const STAND_IN = { name: "GitLab Bot", email: "gitlab-bot@gitlab.com", seconds: 694540800 };

/** Builds the handler. */
export function userRevert(deps: ServiceDeps): Rpc<"gitaly.OperationService", "UserRevert"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validateCherryPickOrRevert(req);
    const branch = text(req.branch_name);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const env = quarantine.env;
      const signal = ctx.signal;
      const { start, repoHadBranches, committer: signature } = await pickStart(
        deps,
        ctx,
        repoPath,
        env,
        req,
      );
      const ours = await readCommit(deps, repoPath, start, signal, env);
      if (!ours) {
        throw notFound("ours commit lookup: commit not found").withField("revision", start);
      }
      const reverted = await readCommit(deps, repoPath, req.commit!.id, signal, env);
      if (!reverted) {
        throw notFound("revert commit lookup: commit not found")
          .withField("revision", req.commit!.id);
      }
      // Merging in the change from the commit to its parent applies the opposite patch.
      // A root commit's parent is taken to be a commit of the empty tree.
      const theirs = reverted.parent_ids[0] ?? await writeCommit(deps.git, repoPath, {
        tree: EMPTY_TREE,
        author: { ...STAND_IN, offsetMinutes: 0 },
        committer: { ...STAND_IN, offsetMinutes: 0 },
        message: "",
        env,
        signal,
      }).catch((err) => {
        throw internal(`write temporary commit: ${(err as Error).message}`);
      });
      let tree: string;
      try {
        ({ tree } = await mergeTree(deps.git, repoPath, {
          ours: ours.id,
          theirs,
          mergeBase: reverted.id,
          nameOnly: true,
          env,
          signal,
        }));
      } catch (err) {
        if (err instanceof MergeTreeConflictError) {
          return {
            create_tree_error: "revert: could not apply due to conflicts",
            create_tree_error_code: UserRevertResponse_CreateTreeError.CONFLICT,
          };
        }
        throw internal(`merge-tree: ${(err as Error).message}`);
      }
      if (ours.tree_id === tree) {
        return {
          create_tree_error: "revert: could not apply because the result was empty",
          create_tree_error_code: UserRevertResponse_CreateTreeError.EMPTY,
        };
      }
      let newrev = await writeCommit(deps.git, repoPath, {
        tree,
        parents: [start],
        author: signature,
        committer: signature,
        message: req.message,
        env,
        signal,
      }).catch((err) => {
        throw internal(`write commit: ${(err as Error).message}`);
      });
      const old = await oldRevision(deps, {
        repoPath,
        env,
        expectedOldOidEnv: env,
        branch,
        expectedOldOid: req.expected_old_oid,
        signal,
      });
      if (req.dry_run) newrev = start;
      const refusal = await landPick(deps, ctx, quarantine, req, old, newrev);
      if (refusal && "diverged" in refusal) return { commit_error: "Branch diverged" };
      if (refusal) return { pre_receive_error: refusal.hook.text };
      return {
        branch_update: {
          commit_id: newrev,
          branch_created: old.branchCreated,
          repo_created: !repoHadBranches,
        },
      };
    });
  });
}
