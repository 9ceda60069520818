/**
 * `UserRebaseToRef`: rebases `source_sha` onto `first_parent_ref` and
 * points `target_ref` (under `refs/merge-requests`) at the result, if it
 * still holds `expected_old_oid` (or what it held when the call started).
 * The rewritten commits keep their authors and messages; the user is
 * their committer. No hooks run, as in Gitaly.
 *
 * @module
 */
import { readObjectFormat } from "../../git/objectid.ts";
import type { UserRebaseToRefRequest } from "../../proto/types.ts";
import { failedPrecondition, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { requestSignature } from "./merge_commit.ts";
import { withQuarantine } from "./quarantine.ts";
import { rebase, RebaseConflictError } from "./rebase.ts";
import { currentTargetOid, expectedOldOid, resolveRevision, updateTargetRef } from "./revisions.ts";

/** Builds the `UserRebaseToRef` handler. */
export function userRebaseToRef(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserRebaseToRef"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const signal = ctx.signal;
    const targetRef = text(req.target_ref);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const onto = await resolveRevision(deps, repoPath, text(req.first_parent_ref), { signal });
      if (onto === null) throw invalidArgument("invalid FirstParentRef");
      const source = await resolveRevision(deps, repoPath, req.source_sha, { signal });
      if (source === null) throw invalidArgument("invalid SourceSha");
      const hash = await readObjectFormat(repoPath);
      const oldOid = req.expected_old_oid
        ? await expectedOldOid(deps, repoPath, hash, req.expected_old_oid, signal)
        : await currentTargetOid(deps, repoPath, hash, targetRef, signal);
      const committer = requestSignature(req.user, req.timestamp);

      let rebased: string;
      try {
        rebased = await rebase(deps, repoPath, {
          upstream: onto,
          branch: source,
          committer,
          env: quarantine.env,
          signal,
        });
      } catch (error) {
        if (error instanceof RebaseConflictError) {
          throw failedPrecondition(
            `failed to rebase ${source} on ${onto} while preparing ${targetRef} due to conflict`,
          );
        }
        throw wrapError("rebasing commits", error);
      }
      await quarantine.migrate();
      if (!(await updateTargetRef(deps, ctx, req.repository, targetRef, rebased, oldOid))) {
        throw failedPrecondition(`could not update ${targetRef}. Please refresh and try again`);
      }
      return { commit_id: rebased };
    });
  });
}

function validate(req: UserRebaseToRefRequest): void {
  if (!req.first_parent_ref?.length) throw invalidArgument("empty FirstParentRef");
  if (!req.user) throw invalidArgument("empty User");
  if (!req.source_sha) throw invalidArgument("empty SourceSha");
  if (!req.target_ref?.length) throw invalidArgument("empty TargetRef");
  if (!text(req.target_ref).startsWith("refs/merge-requests")) {
    throw invalidArgument("invalid TargetRef");
  }
}
