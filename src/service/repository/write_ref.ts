/**
 * `WriteRef`: points a reference at a revision (optionally only if it still
 * holds an expected old value), deletes it for the zero object id, or
 * points `HEAD` at a branch, with Gitaly's messages for each failure (and,
 * where Gitaly says Internal for the caller's mistakes, a precise code).
 * Behind Praefect an update votes through git's reference-transaction hook,
 * and `HEAD` on the content of its new file (`ref: <branch>\n`).
 *
 * @module
 */
import { isZeroOid, readObjectFormat } from "../../git/objectid.ts";
import { referenceProblem } from "../../git/refname.ts";
import { revisionProblem } from "../../git/revision.ts";
import { RefUpdateError, RefUpdater } from "../../git/updateref.ts";
import {
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
  wrapError,
} from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { refTxHook } from "../shared/ref_tx_hook.ts";
import { voteAround, voteFromData } from "../shared/transaction.ts";

/** Builds the `WriteRef` handler: `HEAD` becomes a symbolic ref, anything else an update. */
export function writeRef(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "WriteRef"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const ref = text(req.ref);
    const revision = text(req.revision);
    const oldRevision = text(req.old_revision);
    validateWriteRef(ref, revision, oldRevision);
    if (ref === "HEAD") {
      const malformed = () =>
        // Gitaly says Internal; a name git refuses is the caller's mistake.
        invalidArgument(
          `setting default branch: ${JSON.stringify(revision)} is a malformed refname`,
        );
      if (referenceProblem(revision) !== undefined) throw malformed();
      // Behind Praefect, the new HEAD file's content is voted on before and after it is written.
      await voteAround(deps, ctx, voteFromData(`ref: ${revision}\n`), async () => {
        const result = await deps.git.run({
          gitDir,
          command: { name: "symbolic-ref", args: ["HEAD", revision] },
          signal: ctx.signal,
        });
        if (result.code !== 0) throw malformed();
      }, {
        prepared:
          "setting default branch: committing temporary HEAD: voting on locked file: preimage vote",
        committed: "setting default branch: committing temporary HEAD: postimage vote",
      });
      return {};
    }
    const zero = (await readObjectFormat(gitDir)).zeroOid;
    const resolve = async (rev: string, what: string) => {
      if (isZeroOid(rev)) return zero;
      const info = await deps.catfile.info(gitDir, `${rev}^{object}`, { signal: ctx.signal });
      if (!info) throw notFound(`resolving ${what} revision: reference not found`);
      return info.oid;
    };
    const newOid = await resolve(revision, "new");
    const oldOid = oldRevision ? await resolve(oldRevision, "old") : "";
    const updater = await RefUpdater.start(deps.git, gitDir, {
      signal: ctx.signal,
      ...await refTxHook(deps, ctx, req.repository),
    });
    try {
      await updater.update(new TextEncoder().encode(ref), newOid, oldOid);
      await updater.commit();
    } catch (error) {
      await updater.close();
      if (error instanceof RefUpdateError) {
        // Gitaly answers Internal for all of these; we say whose the problem is.
        const message = `error when running update-ref command: ${error.message}`;
        const kind = error.failure?.kind;
        if (kind === "invalid-format") throw invalidArgument(message);
        if (kind === undefined) throw internal(message);
        throw failedPrecondition(message);
      }
      throw wrapError("error when running update-ref command", error);
    }
    return {};
  });
}

function validateWriteRef(ref: string, revision: string, oldRevision: string): void {
  const problems = [
    ["invalid ref", revisionProblem(ref)],
    ["invalid revision", revisionProblem(revision)],
    ["invalid OldRevision", oldRevision ? revisionProblem(oldRevision) : undefined],
  ];
  for (const [what, problem] of problems) {
    if (problem) throw invalidArgument(`${what}: ${problem}`);
  }
  if (ref !== "HEAD" && !ref.startsWith("refs/")) {
    throw invalidArgument("ref has to be a full reference");
  }
}
