/**
 * `DeleteRefs`: deletes the named references, or all but those under some
 * prefixes, in one transaction.
 *
 * @module
 */
import { readObjectFormat } from "../../git/objectid.ts";
import { referenceProblem } from "../../git/refname.ts";
import { revisionProblem } from "../../git/revision.ts";
import { RefUpdateError, RefUpdater } from "../../git/updateref.ts";
import type { DeleteRefsRequest } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { forEachGitLine } from "../shared/git_lines.ts";
import { transactionFromContext, transactionManagerOf, VoteHash } from "../shared/transaction.ts";

/**
 * `DeleteRefs`: deletes `refs`, or every reference not under one of
 * `except_with_prefix` (one of the two, not both), atomically, as Gitaly
 * does. Symbolic references are deleted themselves, not their targets;
 * references that do not exist are no error. A name Gitaly's revision
 * rules refuse is `InvalidArgument` "invalid references" with
 * `DeleteRefsError.invalid_format` listing them; a reference locked by
 * another process is `Aborted` "cannot lock references" with
 * `references_locked`. Behind Praefect the deletion votes on the names
 * deleted, one a line, before (`prepared`) and after (`committed`) it
 * commits: git's reference-transaction hook sees only force-deletions,
 * which it never votes on. A refused prepared vote deletes nothing.
 *
 * Stricter than Gitaly: names git would refuse (`refs/heads/a..b`), names
 * outside `refs/` and `HEAD` (whose deletion breaks the repository) are
 * refused the same way, where Gitaly fails with `Internal` or deletes them;
 * a reference named twice is `InvalidArgument` (Gitaly: `Internal`).
 */
export function deleteRefs(deps: ServiceDeps): Rpc<"gitaly.RefService", "DeleteRefs"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const refs = req.refs ?? [];
    if (refs.length > 0) {
      const invalid = refs.filter((ref) => {
        const name = text(ref);
        return revisionProblem(name) !== undefined || referenceProblem(name) !== undefined;
      });
      if (invalid.length > 0) {
        throw invalidArgument("invalid references")
          .withDetail("gitaly.DeleteRefsError", { invalid_format: { refs: invalid } });
      }
    }
    const { zeroOid } = await readObjectFormat(repoPath);
    const tx = transactionFromContext(ctx);
    const votes = transactionManagerOf(deps);
    const voteHash = new VoteHash();
    const updater = await RefUpdater.start(deps.git, repoPath, {
      noDeref: true,
      signal: ctx.signal,
    }).catch((error) => {
      throw wrapError("start reference transaction", error);
    });
    try {
      const deleteRef = async (ref: Uint8Array) => {
        await updater.update(ref, zeroOid).catch((error) => {
          throw wrapError("unable to delete refs", error);
        });
        voteHash.update(ref).update("\n");
      };
      if (refs.length > 0) {
        for (const ref of refs) await deleteRef(ref);
      } else {
        await forEachRefExcept(deps, repoPath, req.except_with_prefix, ctx.signal, deleteRef);
      }
      await updater.prepare().catch((error) => {
        ctx.signal.throwIfAborted();
        throw prepareError(error);
      });
      const vote = voteHash.vote();
      if (tx) {
        await votes.vote(tx, vote, "prepared", ctx.signal).catch((error) => {
          throw wrapError("preparatory vote", error, Code.INTERNAL);
        });
      }
      await updater.commit().catch((error) => {
        ctx.signal.throwIfAborted();
        throw wrapError("unable to commit", error);
      });
      if (tx) {
        await votes.vote(tx, vote, "committed", ctx.signal).catch((error) => {
          throw wrapError("committing vote", error, Code.INTERNAL);
        });
      }
    } finally {
      await updater.close();
    }
    return {};
  });
}

function validate(req: DeleteRefsRequest): void {
  const prefixes = req.except_with_prefix ?? [];
  const refs = req.refs ?? [];
  if (prefixes.length > 0 && refs.length > 0) {
    throw invalidArgument("ExceptWithPrefix and Refs are mutually exclusive");
  }
  if (prefixes.length === 0 && refs.length === 0) {
    throw invalidArgument("empty ExceptWithPrefix and Refs");
  }
  if (prefixes.some((prefix) => prefix.length === 0)) {
    throw invalidArgument("empty prefix for exclusion");
  }
  if (refs.some((ref) => ref.length === 0)) throw invalidArgument("empty ref");
}

function prepareError(error: unknown): GrpcError {
  if (error instanceof RefUpdateError && error.failure?.kind === "locked") {
    return new GrpcError(Code.ABORTED, "cannot lock references", { cause: error })
      .withDetail("gitaly.DeleteRefsError", {
        references_locked: { refs: [new TextEncoder().encode(error.failure.reference)] },
      });
  }
  // Naming a reference twice is a bad request (Gitaly: Internal, same message).
  const twice = error instanceof RefUpdateError && error.failure?.kind === "multiple-updates";
  return wrapError("unable to prepare", error, twice ? Code.INVALID_ARGUMENT : Code.INTERNAL);
}

/** Calls `each` with every reference (raw name) that starts with none of `prefixes`. */
async function forEachRefExcept(
  deps: ServiceDeps,
  repoPath: string,
  prefixes: Uint8Array[],
  signal: AbortSignal,
  each: (ref: Uint8Array) => Promise<void>,
): Promise<void> {
  const command = { name: "for-each-ref", flags: ["--format=%(refname)"] };
  const git = await deps.git.start({ gitDir: repoPath, command, signal });
  await forEachGitLine(git, [command.name, ...command.flags], async (line) => {
    if (!prefixes.some((prefix) => startsWith(line, prefix))) await each(line);
  });
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.byteLength > bytes.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
