/**
 * `UserDeleteBranch`: deletes `refs/heads/<branch_name>` through the hooks
 * as the request's user; with `expected_old_oid`, only while the branch
 * points there.
 *
 * @module
 */
import {
  Code,
  failedPrecondition,
  GrpcError,
  invalidArgument,
  wrapError,
} from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { goQuote } from "../../git/goquote.ts";
import {
  branchReference,
  CustomHookError,
  NotAllowedError,
  ReferenceUpdateError,
  resolveDeletion,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

const DETAIL = "gitaly.UserDeleteBranchError";

/**
 * As Gitaly: a missing branch is FailedPrecondition `branch not found:
 * "<name>"`; GitLab's refusal PermissionDenied with an `access_check`
 * detail, a custom hook's PermissionDenied with a `custom_hook` detail, a
 * failed update (the branch is not at `expected_old_oid`) FailedPrecondition
 * with a `reference_update` detail.
 */
export function userDeleteBranch(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserDeleteBranch"> {
  return unary(async (req, ctx) => {
    await deps.locator.repoPath(req.repository);
    if (!req.branch_name?.length) throw invalidArgument("bad request: empty branch name");
    if (!req.user) throw invalidArgument("bad request: empty user");
    const deletion = await resolveDeletion(deps, {
      repository: req.repository,
      user: req.user,
      reference: branchReference(req.branch_name),
      expectedOldOid: req.expected_old_oid,
      notFound: () => failedPrecondition(`branch not found: ${goQuote(text(req.branch_name))}`),
    }, ctx.signal);
    try {
      await updateReferenceWithHooks(deps, ctx, deletion);
    } catch (error) {
      if (error instanceof NotAllowedError) {
        throw new GrpcError(
          Code.PERMISSION_DENIED,
          `deletion denied by access checks: ${error.message}`,
        ).withDetail(DETAIL, { access_check: error.detail() });
      }
      if (error instanceof CustomHookError) {
        throw new GrpcError(
          Code.PERMISSION_DENIED,
          `deletion denied by custom hooks: ${error.message}`,
        ).withDetail(DETAIL, { custom_hook: error.detail() });
      }
      if (error instanceof ReferenceUpdateError) {
        throw failedPrecondition(`reference update failed: ${error.message}`)
          .withDetail(DETAIL, { reference_update: error.detail() });
      }
      throw wrapError("deleting reference", error);
    }
    return {};
  });
}
