/**
 * `UserRebaseConfirmable`: rebases a branch onto a branch of another (or
 * the same) repository in two steps. The header names both; the rebased
 * commits are written into a quarantine and their tip sent back as
 * `rebase_sha`. Only when the client then sends `apply: true` does the
 * branch move there, from `branch_sha`, through the hooks (with the
 * header's push options), answered by `rebase_applied`. A conflict is
 * `FailedPrecondition` and a hook's refusal `PermissionDenied`, each with
 * a `UserRebaseConfirmableError`, as in Gitaly.
 *
 * @module
 */
import { hexProblem, SHA1 } from "../../git/objectid.ts";
import { revisionProblem } from "../../git/revision.ts";
import type { UserRebaseConfirmableRequest_Header } from "../../proto/types.ts";
import {
  Code,
  failedPrecondition,
  GrpcError,
  internal,
  invalidArgument,
  notFound,
  wrapError,
} from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { goQuote } from "../shared/git_options.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { rebase, RebaseConflictError } from "./rebase.ts";
import { userSignature } from "./signature.ts";
import { fetchStartRevision } from "./start_revision.ts";
import { withQuarantine } from "./quarantine.ts";
import { branchReference, CustomHookError, updateReferenceWithHooks } from "./update_with_hooks.ts";

const ERROR_TYPE = "gitaly.UserRebaseConfirmableError";
const encoder = new TextEncoder();

/** Gitaly's `validateUserRebaseConfirmableHeader` (after the repository's own checks). */
function validateHeader(header: UserRebaseConfirmableRequest_Header): void {
  if (!header.user) throw invalidArgument("empty User");
  if (header.branch.length === 0) throw invalidArgument("empty Branch");
  if (!header.branch_sha) throw invalidArgument("empty BranchSha");
  if (!header.remote_repository) throw invalidArgument("empty RemoteRepository");
  if (header.remote_branch.length === 0) throw invalidArgument("empty RemoteBranch");
  if (revisionProblem(text(header.remote_branch))) throw invalidArgument("invalid branch name");
}

/** Builds the handler. */
export function userRebaseConfirmable(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserRebaseConfirmable"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const header = first.header;
    if (!header) throw invalidArgument("empty UserRebaseConfirmableRequest.Header");
    const repoPath = await deps.locator.repoPath(header.repository);
    validateHeader(header);
    const signal = ctx.signal;
    await withQuarantine(deps, header.repository, async (quarantine) => {
      const env = quarantine.env;
      const branch = text(header.branch);
      const problem = hexProblem(header.branch_sha, SHA1);
      if (problem) throw notFound(problem);
      const oldrev = header.branch_sha;
      const start = await fetchStartRevision(deps, ctx, repoPath, env, {
        branchName: branch,
        startBranchName: text(header.remote_branch),
        startRepository: header.remote_repository,
      }).catch((err) => {
        throw err instanceof GrpcError ? err : internal((err as Error).message);
      });
      const user = header.user!;
      const committer = userSignature(user, header.timestamp);
      let newrev: string;
      try {
        newrev = await rebase(deps, repoPath, {
          upstream: start,
          branch: oldrev,
          committer,
          env,
          signal,
        });
      } catch (err) {
        if (err instanceof RebaseConflictError) {
          throw failedPrecondition(`rebasing commits: ${err.message}`).withDetail(ERROR_TYPE, {
            rebase_conflict: {
              conflicting_files: err.conflict.conflictedFiles().map((path) => encoder.encode(path)),
              conflicting_commit_ids: [start, oldrev],
            },
          });
        }
        throw wrapError("rebasing commits", err);
      }
      await send({ rebase_sha: newrev });
      const second = await rest.next().catch((err) => {
        throw internal(`recv: ${(err as Error).message}`);
      });
      if (second.done) throw internal("recv: EOF");
      if (!second.value.apply) throw failedPrecondition("rebase aborted by client");
      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: header.repository!,
          user,
          quarantine,
          reference: branchReference(header.branch),
          newOid: newrev,
          oldOid: oldrev,
          pushOptions: header.git_push_options,
        });
      } catch (err) {
        if (err instanceof CustomHookError) {
          throw new GrpcError(Code.PERMISSION_DENIED, `access check: ${goQuote(err.message)}`)
            .withDetail(ERROR_TYPE, { access_check: { error_message: err.text } });
        }
        throw wrapError("updating ref with hooks", err);
      }
      await send({ rebase_applied: true });
    });
  });
}
