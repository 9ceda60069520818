/**
 * `GetPatchID`: the stable patch id (`git patch-id --stable`) of the diff
 * between two revisions.
 *
 * @module
 */
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { describeExit } from "../shared/git_stream.ts";

/** Builds the handler. */
export function getPatchID(deps: ServiceDeps): Rpc<"gitaly.DiffService", "GetPatchID"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const oldRevision = text(req.old_revision);
    const newRevision = text(req.new_revision);
    if (oldRevision === "") throw invalidArgument("empty OldRevision");
    if (newRevision === "") throw invalidArgument("empty NewRevision");
    // --full-index: binary changes enter the patch id through their full blob ids.
    const diff = await deps.git.start({
      gitDir: repoPath,
      command: { name: "diff", flags: ["--full-index"], args: [oldRevision, newRevision] },
      signal: ctx.signal,
    });
    const patchId = await deps.git.run({
      command: { name: "patch-id", flags: ["--stable"] },
      stdin: diff.stdout,
      signal: ctx.signal,
    });
    const diffExit = await diff.wait();
    if (patchId.code !== 0) {
      throw new GrpcError(Code.INTERNAL, `waiting for patch-id: exit status ${patchId.code}`, {
        fields: { stderr: patchId.stderr },
      });
    }
    if (diffExit.code !== 0) {
      throw new GrpcError(Code.INTERNAL, `waiting for git-diff: ${describeExit(diffExit)}`, {
        fields: { stderr: diffExit.stderr },
      });
    }
    const output = new TextDecoder().decode(patchId.stdout);
    if (output.length === 0) {
      throw new GrpcError(Code.FAILED_PRECONDITION, "no difference between old and new revision");
    }
    const space = output.indexOf(" ");
    if (space < 0) throw new GrpcError(Code.FAILED_PRECONDITION, "unexpected patch ID format");
    return { patch_id: output.slice(0, space) };
  });
}
