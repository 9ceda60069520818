/**
 * `UserCherryPick`: applies the changes a commit made (against its first
 * parent) on top of a branch, as a new commit by the cherry-picked
 * commit's author and the user as committer, and moves the branch there
 * through the hooks. Conflicts, an empty result, a diverged branch and a
 * hook's refusal are `FailedPrecondition` with a `UserCherryPickError`
 * detail, as in Gitaly.
 *
 * @module
 */
import { writeCommit } from "../../git/commit_writer.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import { failedPrecondition, internal, notFound } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { goQuote } from "../shared/git_options.ts";
import { readCommit } from "../shared/commits.ts";
import {
  landPick,
  oldRevision,
  pickStart,
  validateCherryPickOrRevert,
} from "./cherry_pick_revert.ts";
import { commitSignature, zoneOffset } from "./signature.ts";
import { resolveRevision } from "./start_revision.ts";
import { withQuarantine } from "./quarantine.ts";

const ERROR_TYPE = "gitaly.UserCherryPickError";

/** Builds the handler. */
export function userCherryPick(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserCherryPick"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validateCherryPickOrRevert(req);
    const commitId = req.commit!.id;
    const branch = text(req.branch_name);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const env = quarantine.env;
      const signal = ctx.signal;
      const { start, repoHadBranches, committer } = await pickStart(deps, ctx, repoPath, env, req);
      const cherry = await readCommit(deps, repoPath, commitId, signal, env);
      if (!cherry) {
        throw notFound(`cherry-pick: commit lookup: commit not found: ${goQuote(commitId)}`);
      }
      if (zoneOffset(cherry.author?.timezone) === undefined) {
        const zone = goQuote(text(cherry.author?.timezone));
        throw internal(`get cherry commit location: parsing time ${zone} as "-0700"`);
      }
      if (cherry.parent_ids.length === 0) {
        // Gitaly asks merge-tree for a base of `<commit>^`, which a root commit lacks.
        throw internal("cherry-pick command: merge-tree: exit status 128");
      }
      let tree: string;
      try {
        ({ tree } = await mergeTree(deps.git, repoPath, {
          ours: start,
          theirs: cherry.id,
          mergeBase: cherry.parent_ids[0],
          nameOnly: true,
          env,
          signal,
        }));
      } catch (err) {
        if (err instanceof MergeTreeConflictError) {
          throw failedPrecondition(`cherry pick: ${err.message}`).withDetail(ERROR_TYPE, {
            cherry_pick_conflict: {
              conflicting_files: err.conflictingFiles.map((file) => encoder.encode(file.path)),
            },
          });
        }
        throw internal(`cherry-pick command: ${(err as Error).message}`);
      }
      const startTree = await resolveRevision(deps, repoPath, `${start}^{tree}`, { env, signal });
      if (startTree === tree) {
        throw failedPrecondition("cherry-pick: could not apply because the result was empty")
          .withDetail(ERROR_TYPE, { changes_already_applied: {} });
      }
      let newrev = await writeCommit(deps.git, repoPath, {
        tree,
        parents: [start],
        author: commitSignature(cherry.author),
        committer,
        message: req.message,
        env,
        signal,
      });
      // Gitaly looks the expected old id up in the repository itself, not in the quarantine.
      const old = await oldRevision(deps, {
        repoPath,
        env,
        expectedOldOidEnv: {},
        branch,
        expectedOldOid: req.expected_old_oid,
        signal,
      });
      if (req.dry_run) newrev = start;
      const refusal = await landPick(deps, ctx, quarantine, req, old, newrev);
      if (refusal && "diverged" in refusal) {
        throw failedPrecondition("cherry-pick: branch diverged").withDetail(ERROR_TYPE, {
          target_branch_diverged: {
            parent_revision: encoder.encode(old.oid),
            child_revision: encoder.encode(newrev),
          },
        });
      }
      if (refusal) {
        throw failedPrecondition("access check failed").withDetail(ERROR_TYPE, {
          access_check: { error_message: refusal.hook.text.replace(/\n$/, "") },
        });
      }
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

const encoder = new TextEncoder();
