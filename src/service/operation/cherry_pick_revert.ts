/**
 * What `UserCherryPick` and `UserRevert` share, as Gitaly shares it: the
 * request's validation, where they start, the branch's old revision (`expected_old_oid` or
 * the branch's tip; a missing branch is created), and whether the new
 * commit descends from it.
 *
 * @module
 */
import { hexProblem, SHA1 } from "../../git/objectid.ts";
import { internal, invalidArgument, wrapError } from "../../server/errors.ts";
import type { GitCommit, Repository, User } from "../../proto/types.ts";
import { Code } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import type { Signature, TimestampLike } from "../../git/commit_writer.ts";
import type { CallContext } from "../../server/rpc.ts";
import { text } from "../shared/bytes.ts";
import { userSignature } from "./signature.ts";
import { fetchStartRevision, resolveRevision } from "./start_revision.ts";
import type { Quarantine } from "./quarantine.ts";
import { branchReference, CustomHookError, updateReferenceWithHooks } from "./update_with_hooks.ts";

/** The fields both requests have. */
export interface CherryPickOrRevertRequest {
  repository?: Repository | null;
  user?: User | null;
  commit?: GitCommit | null;
  branch_name: Uint8Array;
  message: Uint8Array;
}

/** Gitaly's `validateCherryPickOrRevertRequest` (after the repository's own checks). */
export function validateCherryPickOrRevert(req: CherryPickOrRevertRequest): void {
  if (!req.user) throw invalidArgument("empty User");
  if (!req.commit) throw invalidArgument("empty Commit");
  if (req.branch_name.length === 0) throw invalidArgument("empty BranchName");
  if (req.message.length === 0) throw invalidArgument("empty Message");
}

/** The request fields {@link pickStart} reads. */
export interface PickStartRequest extends CherryPickOrRevertRequest {
  start_branch_name: Uint8Array;
  start_repository?: Repository | null;
  timestamp?: TimestampLike | null;
}

/** Where a cherry-pick or revert starts, seen through the quarantine. */
export interface PickStart {
  /** The commit the new one goes on. */
  start: string;
  /** Whether the repository had a branch before (the response's `repo_created`). */
  repoHadBranches: boolean;
  /** The user at the request's timestamp. */
  committer: Signature;
}

/**
 * The start commit (fetched into the quarantine `env` from a start
 * repository), whether the repository has branches, and the user's
 * signature, in the order Gitaly checks them.
 */
export async function pickStart(
  deps: ServiceDeps,
  ctx: CallContext,
  repoPath: string,
  env: Record<string, string>,
  req: PickStartRequest,
): Promise<PickStart> {
  const start = await fetchStartRevision(deps, ctx, repoPath, env, {
    branchName: text(req.branch_name),
    startBranchName: text(req.start_branch_name),
    startRepository: req.start_repository,
  });
  const repoHadBranches = await hasBranches(deps, repoPath, { env, signal: ctx.signal });
  return { start, repoHadBranches, committer: userSignature(req.user, req.timestamp) };
}

/** Why {@link landPick} left the branch alone, for each RPC to answer as Gitaly does. */
export type PickRefusal = { diverged: true } | { hook: CustomHookError };

/**
 * Moves the request's branch from `old` to `newrev` through the hooks,
 * unless the branch existed and `newrev` does not descend from it, or a
 * custom hook refused; anything else that fails is `Internal`.
 */
export async function landPick(
  deps: ServiceDeps,
  ctx: CallContext,
  quarantine: Quarantine,
  req: CherryPickOrRevertRequest,
  old: OldRevision,
  newrev: string,
): Promise<PickRefusal | undefined> {
  const repoPath = quarantine.repoPath;
  if (!old.branchCreated) {
    const descends = await isAncestor(deps, repoPath, old.oid, newrev, {
      env: quarantine.env,
      signal: ctx.signal,
    }).catch((err) => {
      throw internal(`checking for ancestry: ${(err as Error).message}`);
    });
    if (!descends) return { diverged: true };
  }
  try {
    await updateReferenceWithHooks(deps, ctx, {
      repository: req.repository!,
      user: req.user!,
      quarantine,
      reference: branchReference(req.branch_name),
      newOid: newrev,
      oldOid: old.oid,
    });
  } catch (err) {
    if (err instanceof CustomHookError) return { hook: err };
    throw internal(`update reference with hooks: ${(err as Error).message}`);
  }
  return undefined;
}

/** The zero object id (SHA-1, the only format operations write). */
export const ZERO_OID = "0".repeat(40);

/** The branch's revision before the update, and whether the update creates it. */
export interface OldRevision {
  oid: string;
  branchCreated: boolean;
}

/**
 * The revision the branch is updated from: `expected_old_oid` when given
 * (resolved in `lookupRepo`), else the branch's commit in the quarantine;
 * a missing branch gives the zero id and `branchCreated`.
 */
export async function oldRevision(
  deps: ServiceDeps,
  options: {
    repoPath: string;
    env: Record<string, string>;
    /** Where `expected_old_oid` is looked up (Gitaly's cherry-pick: without the quarantine). */
    expectedOldOidEnv?: Record<string, string>;
    branch: string;
    expectedOldOid: string;
    signal: AbortSignal;
  },
): Promise<OldRevision> {
  const { repoPath, env, signal } = options;
  const expected = options.expectedOldOid;
  if (expected !== "") {
    const problem = hexProblem(expected, SHA1);
    if (problem) {
      throw invalidArgument(`invalid expected old object ID: ${problem}`)
        .withField("old_object_id", expected);
    }
    try {
      const oid = await resolveRevision(deps, repoPath, `${expected}^{object}`, {
        env: options.expectedOldOidEnv,
        signal,
      });
      return { oid, branchCreated: false };
    } catch (err) {
      throw wrapError("cannot resolve expected old object ID", err, Code.INVALID_ARGUMENT)
        .withField("old_object_id", expected);
    }
  }
  try {
    const oid = await resolveRevision(deps, repoPath, `refs/heads/${options.branch}^{commit}`, {
      env,
      signal,
    });
    return { oid, branchCreated: false };
  } catch {
    return { oid: ZERO_OID, branchCreated: true };
  }
}

/** Whether `ancestor` is an ancestor of `child` (`git merge-base --is-ancestor`). */
export async function isAncestor(
  deps: ServiceDeps,
  repoPath: string,
  ancestor: string,
  child: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<boolean> {
  const result = await deps.git.run({
    gitDir: repoPath,
    command: { name: "merge-base", flags: ["--is-ancestor"], args: [ancestor, child] },
    env: options.env,
    signal: options.signal,
  });
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  throw new Error(`merge-base: exit status ${result.code}: ${result.stderr.trim()}`);
}

/** Whether the repository has a branch (`refs/heads/*`), seen through `env`. */
export async function hasBranches(
  deps: ServiceDeps,
  repoPath: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<boolean> {
  const { stdout } = await deps.git.runOk({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--count=1", "--format=%(refname)"],
      args: ["refs/heads/"],
    },
    env: options.env,
    signal: options.signal,
  });
  return stdout.length > 0;
}
