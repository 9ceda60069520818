/**
 * `UserFFBranch`: fast-forwards `branch` to `commit_id` through the hooks
 * as the user, if the branch's commit (or `expected_old_oid`) is an
 * ancestor of it. A custom hook's refusal is answered, as in Gitaly, with
 * `pre_receive_error` set and a lost race with an empty response.
 *
 * @module
 */
import { goQuote } from "../../git/goquote.ts";
import { hexProblem, readObjectFormat } from "../../git/objectid.ts";
import type { UserFFBranchRequest } from "../../proto/types.ts";
import { failedPrecondition, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { withQuarantine } from "./quarantine.ts";
import { expectedOldOid, resolveRevision } from "./revisions.ts";
import {
  branchReference,
  CustomHookError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

/** Builds the `UserFFBranch` handler. */
export function userFFBranch(deps: ServiceDeps): Rpc<"gitaly.OperationService", "UserFFBranch"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const reference = branchReference(req.branch);
    // No new objects, but the hooks (and GitLab) get a quarantined repository, as from Gitaly.
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const hash = await readObjectFormat(repoPath);
      const revision = req.expected_old_oid
        ? await expectedOldOid(deps, repoPath, hash, req.expected_old_oid, ctx.signal)
        : await resolveRevision(deps, repoPath, text(reference), { signal: ctx.signal });
      if (revision === null) throw invalidArgument("reference not found");
      const problem = hexProblem(req.commit_id, hash);
      if (problem) throw invalidArgument(`cannot parse commit ID: ${problem}`);
      if (!(await isAncestor(deps, repoPath, revision, req.commit_id, ctx.signal))) {
        throw failedPrecondition("not fast forward");
      }
      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference,
          newOid: req.commit_id,
          oldOid: revision,
        });
      } catch (error) {
        if (error instanceof CustomHookError) return { pre_receive_error: error.text };
        // A lost race: Gitaly answers with an empty response, as its Ruby predecessor did.
        if (error instanceof ReferenceUpdateError) return {};
        throw wrapError("updating ref with hooks", error);
      }
      return { branch_update: { commit_id: req.commit_id } };
    });
  });
}

function validate(req: UserFFBranchRequest): void {
  if (!req.branch?.length) throw invalidArgument("empty branch name");
  if (!req.user) throw invalidArgument("empty user");
  if (!req.commit_id) throw invalidArgument("empty commit id");
}

/**
 * Whether `ancestor` is an ancestor of `descendant` (`git merge-base
 * --is-ancestor`). Gitaly answers Internal when either is not a commit of
 * the repository; that is the caller's mistake, so `InvalidArgument` here.
 */
async function isAncestor(
  deps: ServiceDeps,
  repoPath: string,
  ancestor: string,
  descendant: string,
  signal: AbortSignal,
): Promise<boolean> {
  for (const oid of [ancestor, descendant]) {
    const info = await deps.catfile.info(repoPath, oid, { signal });
    if (info?.type !== "commit") {
      throw invalidArgument(`checking for ancestry: invalid commit: ${goQuote(oid)}`);
    }
  }
  const result = await deps.git.run({
    gitDir: repoPath,
    command: { name: "merge-base", flags: ["--is-ancestor"], args: [ancestor, descendant] },
    signal,
  });
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  throw new Error(`checking for ancestry: determine ancestry: exit status ${result.code}`);
}
