/**
 * `UserDeleteTag`: deletes `refs/tags/<tag_name>` through the hooks as the
 * request's user; with `expected_old_oid`, only while the tag points there.
 *
 * @module
 */
import { failedPrecondition, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import {
  CustomHookError,
  ReferenceUpdateError,
  resolveDeletion,
  tagReference,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

/**
 * As Gitaly: a missing tag is FailedPrecondition `tag not found: <name>`;
 * a custom hook's refusal is a response with `pre_receive_error`; a failed
 * update (the tag moved) FailedPrecondition `reference update: …`; other
 * failures, GitLab's refusal among them, Internal.
 */
export function userDeleteTag(deps: ServiceDeps): Rpc<"gitaly.OperationService", "UserDeleteTag"> {
  return unary(async (req, ctx) => {
    await deps.locator.repoPath(req.repository);
    if (!req.tag_name?.length) throw invalidArgument("empty tag name");
    if (!req.user) throw invalidArgument("empty user");
    const deletion = await resolveDeletion(deps, {
      repository: req.repository,
      user: req.user,
      reference: tagReference(req.tag_name),
      expectedOldOid: req.expected_old_oid,
      notFound: () => failedPrecondition(`tag not found: ${text(req.tag_name)}`),
    }, ctx.signal);
    try {
      await updateReferenceWithHooks(deps, ctx, deletion);
    } catch (error) {
      if (error instanceof CustomHookError) return { pre_receive_error: error.text };
      if (error instanceof ReferenceUpdateError) throw failedPrecondition(error.message);
      throw error; // Internal at the boundary, with its message
    }
    return {};
  });
}
