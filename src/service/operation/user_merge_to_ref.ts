/**
 * `UserMergeToRef`: merges `source_sha` into `first_parent_ref` (or, when
 * unset, `branch`) and points `target_ref` (under `refs/merge-requests`)
 * at the merge commit, if it still holds `expected_old_oid` (or what it
 * held when the call started). As in Gitaly no hooks run; a conflict is
 * an error (`allow_conflicts` is no longer honoured).
 *
 * @module
 */
import { readObjectFormat } from "../../git/objectid.ts";
import type { UserMergeToRefRequest } from "../../proto/types.ts";
import { failedPrecondition, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { createMergeCommit, requestSignature } from "./merge_commit.ts";
import { withQuarantine } from "./quarantine.ts";
import { currentTargetOid, expectedOldOid, resolveRevision, updateTargetRef } from "./revisions.ts";

/** Builds the `UserMergeToRef` handler. */
export function userMergeToRef(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserMergeToRef"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const targetRef = text(req.target_ref);
    const signal = ctx.signal;
    const hash = await readObjectFormat(repoPath);
    const firstParent = req.first_parent_ref?.length
      ? text(req.first_parent_ref)
      : text(req.branch);
    const ours = await resolveRevision(deps, repoPath, firstParent, { signal });
    if (ours === null) throw invalidArgument("Invalid merge source");
    const theirs = await resolveRevision(deps, repoPath, req.source_sha, { signal });
    if (theirs === null) throw invalidArgument("Invalid merge source");
    const signature = requestSignature(req.user, req.timestamp);
    const oldOid = req.expected_old_oid
      ? await expectedOldOid(deps, repoPath, hash, req.expected_old_oid, signal)
      : await currentTargetOid(deps, repoPath, hash, targetRef, signal);

    // The merge goes to a quarantine first: a failed call leaves no objects behind.
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      let mergeOid: string;
      try {
        mergeOid = await createMergeCommit(deps, repoPath, {
          ours,
          theirs,
          signature,
          message: req.message,
          env: quarantine.env,
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        deps.logger.error("unable to create merge commit", {
          error: (error as Error).message,
          source_sha: theirs,
          target_sha: ours,
          target_ref: targetRef,
        });
        throw failedPrecondition(
          `Failed to create merge commit for source_sha ${theirs} and target_sha ${ours} at ${targetRef}`,
        );
      }
      await quarantine.migrate();
      if (!(await updateTargetRef(deps, ctx, req.repository, targetRef, mergeOid, oldOid))) {
        throw failedPrecondition(`Could not update ${targetRef}. Please refresh and try again`);
      }
      return { commit_id: mergeOid };
    });
  });
}

function validate(req: UserMergeToRefRequest): void {
  if (!req.first_parent_ref?.length && !req.branch?.length) {
    throw invalidArgument("empty first parent ref and branch name");
  }
  if (!req.user) throw invalidArgument("empty user");
  if (!req.source_sha) throw invalidArgument("empty source SHA");
  if (!req.target_ref?.length) throw invalidArgument("empty target ref");
  if (!text(req.target_ref).startsWith("refs/merge-requests")) {
    throw invalidArgument("invalid target ref");
  }
}
