/**
 * `UserUpdateBranch`: moves `refs/heads/<branch_name>` from `oldrev` to
 * `newrev` through the hooks as the request's user.
 *
 * @module
 */
import { hexProblem, readObjectFormat } from "../../git/objectid.ts";
import { failedPrecondition, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { withQuarantine } from "./quarantine.ts";
import { branchReference, CustomHookError, updateReferenceWithHooks } from "./update_with_hooks.ts";

/**
 * As Gitaly: a custom hook's refusal is a response with
 * `pre_receive_error` (the hook's output); any other failure (the branch
 * moved or is missing, GitLab refused) is FailedPrecondition `Could not
 * update <branch>. Please refresh and try again.` A malformed `newrev` or
 * `oldrev` is InvalidArgument (Gitaly: Internal) with Gitaly's message.
 */
export function userUpdateBranch(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserUpdateBranch"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (!req.user) throw invalidArgument("empty user");
    if (!req.branch_name?.length) throw invalidArgument("empty branch name");
    if (!req.oldrev?.length) throw invalidArgument("empty oldrev");
    if (!req.newrev?.length) throw invalidArgument("empty newrev");
    const hash = await readObjectFormat(repoPath);
    const newOid = text(req.newrev);
    const newProblem = hexProblem(newOid, hash);
    if (newProblem) throw invalidArgument(`could not parse newrev: ${newProblem}`);
    const oldOid = text(req.oldrev);
    const oldProblem = hexProblem(oldOid, hash);
    if (oldProblem) throw invalidArgument(`could not parse oldrev: ${oldProblem}`);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference: branchReference(req.branch_name),
          newOid,
          oldOid,
        });
      } catch (error) {
        if (error instanceof CustomHookError) return { pre_receive_error: error.text };
        throw failedPrecondition(
          `Could not update ${text(req.branch_name)}. Please refresh and try again.`,
        );
      }
      return {};
    });
  });
}
