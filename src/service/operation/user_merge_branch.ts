/**
 * `UserMergeBranch`: merges `commit_id` into `branch` in two steps on one
 * bidirectional stream, as Gitaly does. The first request names the merge;
 * the merge commit is written (into a quarantine) and its id sent back.
 * Only a second request with `apply` set moves the branch to it, through
 * the hooks as the user; anything else leaves the branch and the
 * repository as they were.
 *
 * @module
 */
import { goQuote } from "../../git/goquote.ts";
import { readObjectFormat } from "../../git/objectid.ts";
import { MergeTreeConflictError } from "../../git/merge_tree.ts";
import type { UserMergeBranchRequest } from "../../proto/types.ts";
import {
  Code,
  failedPrecondition,
  GrpcError,
  invalidArgument,
  notFound,
  wrapError,
} from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { createMergeCommit, requestSignature } from "./merge_commit.ts";
import { Quarantine } from "./quarantine.ts";
import { expectedOldOid, resolveRevision } from "./revisions.ts";
import {
  branchReference,
  CustomHookError,
  NotAllowedError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

const MERGE_ERROR = "gitaly.UserMergeBranchError";
const encoder = new TextEncoder();

/** Builds the `UserMergeBranch` handler. */
export function userMergeBranch(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserMergeBranch"> {
  return bidiStream(async (requests, ctx, send) => {
    const stream = requests[Symbol.asyncIterator]();
    const first = await nextRequest(stream, ctx.signal);
    if (first.done) throw invalidArgument("empty first request");
    const req = first.value;
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const quarantine = await Quarantine.create(deps, req.repository);
    try {
      const hash = await readObjectFormat(repoPath);
      const reference = branchReference(req.branch);
      const revision = req.expected_old_oid
        ? await expectedOldOid(deps, repoPath, hash, req.expected_old_oid, ctx.signal)
        : await resolveRevision(deps, repoPath, text(reference), { signal: ctx.signal });
      if (revision === null) throw notFound("reference not found");
      const signature = requestSignature(req.user, req.timestamp);

      const theirs = await mergeSource(deps, repoPath, req.commit_id, ctx.signal);
      let mergeOid: string;
      try {
        mergeOid = await createMergeCommit(deps, repoPath, {
          ours: revision,
          theirs,
          signature,
          message: req.message,
          env: quarantine.env,
          signal: ctx.signal,
        });
      } catch (error) {
        if (error instanceof MergeTreeConflictError) {
          throw failedPrecondition(`merging commits: ${error.message}`).withDetail(MERGE_ERROR, {
            merge_conflict: {
              conflicting_files: error.conflictingFiles.map((file) => encoder.encode(file.path)),
              conflicting_commit_ids: [revision, req.commit_id],
            },
          });
        }
        throw wrapError("merge", error);
      }
      await send({ commit_id: mergeOid });

      // The client decides after seeing the merge commit: wait for it (or the call's end).
      const second = await nextRequest(stream, ctx.signal);
      if (second.done || !second.value.apply) throw failedPrecondition("merge aborted by client");

      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference,
          newOid: mergeOid,
          oldOid: revision,
        });
      } catch (error) {
        throw updateError(error);
      }
      await send({ branch_update: { commit_id: mergeOid } });
    } finally {
      await quarantine.cleanup();
    }
  });
}

/** The next request, or the call's abort reason once it is cancelled or past its deadline. */
function nextRequest<T>(
  stream: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    stream.next().then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * The commit `commitId` names. Gitaly lets git fail on anything else and
 * answers Internal (with an empty message for a missing commit); the
 * caller's mistake is `InvalidArgument` here.
 */
async function mergeSource(
  deps: ServiceDeps,
  repoPath: string,
  commitId: string,
  signal: AbortSignal,
): Promise<string> {
  const oid = await resolveRevision(deps, repoPath, commitId, { signal });
  const info = oid === null ? null : await deps.catfile.info(repoPath, oid, { signal });
  if (!info) throw invalidArgument(`merging commits: commit not found: ${goQuote(commitId)}`);
  if (info.type !== "commit") {
    throw invalidArgument(`merging commits: not a commit: ${goQuote(commitId)}`);
  }
  return info.oid;
}

/** Gitaly's checks of the first request, in its order. */
function validate(req: UserMergeBranchRequest): void {
  if (!req.user) throw invalidArgument("empty user");
  if (!req.user.email?.length) throw invalidArgument("empty user email");
  if (!req.user.name?.length) throw invalidArgument("empty user name");
  if (!req.branch?.length) throw invalidArgument("empty branch name");
  if (!req.commit_id) throw invalidArgument("empty commit ID");
  if (!req.message?.length) throw invalidArgument("empty message");
}

/** A refused branch update as Gitaly answers it, with its `UserMergeBranchError`. */
function updateError(error: unknown): GrpcError {
  if (error instanceof NotAllowedError) {
    return new GrpcError(Code.PERMISSION_DENIED, `GitLab: ${error.reason}`)
      .withDetail(MERGE_ERROR, { access_check: error.detail() });
  }
  if (error instanceof CustomHookError) {
    return new GrpcError(Code.PERMISSION_DENIED, error.text)
      .withDetail(MERGE_ERROR, { custom_hook: error.detail() });
  }
  if (error instanceof ReferenceUpdateError) {
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    return failedPrecondition(`reference update: ${cause}`)
      .withDetail(MERGE_ERROR, { reference_update: error.detail() });
  }
  return wrapError("target update", error);
}
