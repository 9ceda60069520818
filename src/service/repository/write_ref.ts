/**
 * `WriteRef`: points a reference at a revision (optionally only if it still
 * holds an expected old value), deletes it for the zero object id, or makes
 * `HEAD` a symbolic ref.
 *
 * @module
 */
import { revisionProblem } from "../../git/revision.ts";
import { Code, GrpcError, internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** Builds the `WriteRef` handler: `HEAD` becomes a symbolic ref, anything else an update. */
export function writeRef(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "WriteRef"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const ref = text(req.ref);
    const revision = text(req.revision);
    const oldRevision = text(req.old_revision);
    validateWriteRef(ref, revision, oldRevision);
    if (ref === "HEAD") {
      await deps.git.runOk({
        gitDir,
        args: ["symbolic-ref", "HEAD", revision],
        signal: ctx.signal,
      });
      return {};
    }
    const args = ["update-ref", "--no-deref", "--", ref, `${revision}^{object}`];
    if (oldRevision) args.push(isZero(oldRevision) ? oldRevision : `${oldRevision}^{object}`);
    if (isZero(revision)) args.splice(0, args.length, "update-ref", "--no-deref", "-d", "--", ref);
    const result = await deps.git.run({ gitDir, args, signal: ctx.signal });
    if (result.code !== 0) throw updateRefError(result.stderr);
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

function isZero(oid: string): boolean {
  return /^0+$/.test(oid) && (oid.length === 40 || oid.length === 64);
}

function updateRefError(stderr: string): GrpcError {
  if (/cannot lock ref.*File exists/s.test(stderr)) {
    return new GrpcError(Code.ABORTED, "reference is locked already");
  }
  return internal(`error when running update-ref command: ${stderr.trim().split("\n").pop()}`);
}
