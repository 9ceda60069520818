/**
 * Revisions and references as the merge and rebase operations read and
 * write them, in Gitaly's words: resolving a revision (`git rev-parse
 * --verify`), the `expected_old_oid` of a request, the current value of a
 * `target_ref`, and writing a `target_ref` without the receive hooks
 * (UserMergeToRef and UserRebaseToRef update `refs/merge-requests/…` as
 * Gitaly does, with only the reference-transaction hook).
 *
 * @module
 */
import { goQuote } from "../../git/goquote.ts";
import { hexProblem, type ObjectHash } from "../../git/objectid.ts";
import { failedPrecondition, internal, invalidArgument } from "../../server/errors.ts";
import type { Repository } from "../../proto/types.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { updateRef } from "./update_with_hooks.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The object id `revision` names (Gitaly's `ResolveRevision`: `git
 * rev-parse --verify`, so a full object id resolves even if the object is
 * missing), or null when git cannot resolve it.
 */
export async function resolveRevision(
  deps: ServiceDeps,
  gitDir: string,
  revision: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<string | null> {
  // Gitaly passes it after --end-of-options, where an option-like name resolves to nothing.
  if (revision === "" || revision.startsWith("-") || revision.includes("\0")) return null;
  const result = await deps.git.run({
    gitDir,
    command: { name: "rev-parse", flags: ["--verify", "--quiet"], args: [revision] },
    env: options.env,
    signal: options.signal,
  });
  return result.code === 0 ? decoder.decode(result.stdout).trim() : null;
}

/**
 * The request's `expected_old_oid` checked as Gitaly checks it: an object
 * id of the repository's format (`invalid expected old object ID: …`)
 * naming an existing object (`cannot resolve expected old object ID:
 * reference not found`), both `InvalidArgument`.
 */
export async function expectedOldOid(
  deps: ServiceDeps,
  gitDir: string,
  hash: ObjectHash,
  expected: string,
  signal?: AbortSignal,
): Promise<string> {
  const problem = hexProblem(expected, hash);
  if (problem) {
    throw invalidArgument(`invalid expected old object ID: ${problem}`, {
      old_object_id: expected,
    });
  }
  const info = await deps.catfile.info(gitDir, `${expected}^{object}`, { signal });
  if (!info) {
    throw invalidArgument("cannot resolve expected old object ID: reference not found", {
      old_object_id: expected,
    });
  }
  return info.oid;
}

/**
 * What `targetRef` points at now, for an update that must not race: the
 * zero id when it does not exist; `FailedPrecondition` when it is
 * symbolic and `InvalidArgument` when it names a directory of references
 * (Gitaly's `GetReference`: the first reference `git for-each-ref` lists
 * for the name must be the name itself).
 */
export async function currentTargetOid(
  deps: ServiceDeps,
  gitDir: string,
  hash: ObjectHash,
  targetRef: string,
  signal?: AbortSignal,
): Promise<string> {
  const result = await deps.git.runOk({
    gitDir,
    command: {
      name: "for-each-ref",
      flags: ["--count=1", "--format=%(refname)%00%(objectname)%00%(symref)"],
      args: [targetRef],
    },
    signal,
  });
  const line = decoder.decode(result.stdout).split("\n")[0];
  if (!line) return hash.zeroOid;
  const [name, oid, symref] = line.split("\0");
  if (name !== targetRef) {
    throw invalidArgument(
      `target reference is ambiguous: reference is ambiguous: conflicts with ${goQuote(name)}`,
    );
  }
  if (symref) throw failedPrecondition(`target reference is symbolic: ${goQuote(targetRef)}`);
  if (hexProblem(oid, hash)) throw internal(`invalid target revision: ${oid}`);
  return oid;
}

/**
 * Points `reference` at `newOid` if it is still at `oldOid` (the zero id:
 * does not exist), with only the reference-transaction hook, as Gitaly's
 * `UpdateRef`; resolves false when git refuses (it moved, is locked, has a
 * bad name, the transaction hook refused, …).
 */
export async function updateTargetRef(
  deps: ServiceDeps,
  ctx: CallContext,
  repository: Partial<Repository> | null | undefined,
  reference: string,
  newOid: string,
  oldOid: string,
): Promise<boolean> {
  const repoPath = await deps.locator.repoPath(repository);
  try {
    await updateRef(deps, ctx, repoPath, { ...repository }, null, {
      reference: encoder.encode(reference),
      newOid,
      oldOid,
    });
    return true;
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    deps.logger.info("updating target reference failed", {
      reference,
      error: (error as Error).message,
    });
    return false;
  }
}
