/**
 * `UserCreateBranch`: creates `refs/heads/<branch_name>` at the commit
 * `start_point` names, through the hooks as the request's user.
 *
 * @module
 */
import { Code, failedPrecondition, GrpcError, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit } from "../shared/commits.ts";
import { withQuarantine } from "./quarantine.ts";
import {
  branchReference,
  CustomHookError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";
import { readObjectFormat } from "../../git/objectid.ts";

/**
 * Gitaly's checks and answers: `start_point` must resolve to a commit
 * (else FailedPrecondition `revspec '<start>' not found`); the branch must
 * not exist (ReferenceUpdateError as FailedPrecondition); a custom hook's
 * refusal is PermissionDenied `creation denied by custom hooks` with a
 * `UserCreateBranchError.custom_hook` detail.
 */
export function userCreateBranch(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserCreateBranch"> {
  return unary(async (req, ctx) => {
    await deps.locator.repoPath(req.repository);
    if (!req.branch_name?.length) throw invalidArgument("empty branch name");
    if (!req.user) throw invalidArgument("empty user");
    if (!req.start_point?.length) throw invalidArgument("empty start point");
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const startPoint = text(req.start_point);
      const commit = await readCommit(
        deps,
        quarantine.repoPath,
        startPoint,
        ctx.signal,
        quarantine.env,
      ).catch(() => null);
      if (commit === null) throw failedPrecondition(`revspec '${startPoint}' not found`);
      const hash = await readObjectFormat(quarantine.repoPath);
      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference: branchReference(req.branch_name),
          newOid: commit.id,
          oldOid: hash.zeroOid,
        });
      } catch (error) {
        if (error instanceof CustomHookError) {
          throw new GrpcError(Code.PERMISSION_DENIED, "creation denied by custom hooks")
            .withDetail("gitaly.UserCreateBranchError", { custom_hook: error.detail() });
        }
        if (error instanceof ReferenceUpdateError) throw failedPrecondition(error.message);
        throw error;
      }
      return { branch: { name: req.branch_name, target_commit: commit } };
    });
  });
}
