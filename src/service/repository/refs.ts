/**
 * `ObjectFormat`, `HasLocalBranches` and `WriteRef`: small reads and one
 * reference write.
 *
 * @module
 */
import type {
  HasLocalBranchesRequest,
  HasLocalBranchesResponse,
  Init,
  ObjectFormatRequest,
  ObjectFormatResponse,
  WriteRefRequest,
  WriteRefResponse,
} from "../../proto/types.ts";
import { ObjectFormat } from "../../proto/types.ts";
import { detectObjectFormat } from "../../git/objectid.ts";
import { revisionProblem } from "../../git/revision.ts";
import { Code, GrpcError, internal, invalidArgument } from "../../server/errors.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** Builds the `ObjectFormat` handler. */
export function objectFormat(deps: ServiceDeps) {
  return unary<ObjectFormatRequest, Init<ObjectFormatResponse>>(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const hash = await detectObjectFormat(deps.git, repoPath);
    return {
      format: hash.format === "sha256"
        ? ObjectFormat.OBJECT_FORMAT_SHA256
        : ObjectFormat.OBJECT_FORMAT_SHA1,
    };
  });
}

/** Builds the `HasLocalBranches` handler. */
export function hasLocalBranches(deps: ServiceDeps) {
  return unary<HasLocalBranchesRequest, Init<HasLocalBranchesResponse>>(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const { stdout } = await deps.git.runOk({
      gitDir,
      args: ["for-each-ref", "--count=1", "--format=%(refname)", "refs/heads/"],
      signal: ctx.signal,
    });
    return { value: stdout.length > 0 };
  });
}

/** Builds the `WriteRef` handler: `HEAD` becomes a symbolic ref, anything else an update. */
export function writeRef(deps: ServiceDeps) {
  return unary<WriteRefRequest, Init<WriteRefResponse>>(async (req, ctx) => {
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
