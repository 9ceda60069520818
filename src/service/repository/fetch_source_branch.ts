/**
 * `FetchSourceBranch`: makes `target_ref` in the repository point at the
 * commit `source_branch` names in the source repository (a merge request's
 * source branch, possibly in a fork on another server), fetching the
 * commit first when the repository lacks it. A failed fetch or an unknown
 * branch answers `result: false`, as in Gitaly.
 *
 * Gitaly fetches into a quarantine directory first; here the fetch goes
 * straight into the repository. It updates no refs (it asks for an object
 * id), so a failure leaves at most unreferenced objects behind.
 *
 * @module
 */
import { revisionProblem } from "../../git/revision.ts";
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { validateRepositoryFields } from "../remote/validate.ts";
import { fetchFrom } from "./git_transfer.ts";
import { openSource } from "./replication_source.ts";

/** Builds the handler. */
export function fetchSourceBranch(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "FetchSourceBranch"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const sourceBranch = text(req.source_branch);
    const targetRef = text(req.target_ref);
    for (const revision of [sourceBranch, targetRef]) {
      const problem = revisionProblem(revision);
      if (problem) throw invalidArgument(problem);
    }
    validateRepositoryFields(req.source_repository, "source repository: ");
    const source = await openSource(deps, req.source_repository!, ctx.metadata);
    try {
      const oid = await source.resolveCommit(sourceBranch, ctx.signal);
      if (!oid) return { result: false };
      if (!(await hasCommit(deps, repoPath, oid, ctx.signal))) {
        const remote = source.gitRemote({
          uploadPackConfig: ["uploadpack.allowAnySHA1InWant=true"],
          gitProtocol: "version=2",
        });
        try {
          await fetchFrom(deps, repoPath, remote, [oid], { tags: false, signal: ctx.signal });
        } catch (err) {
          ctx.signal.throwIfAborted();
          deps.logger.warn("git fetch failed", { oid, error: (err as Error).message });
          return { result: false };
        }
      }
      await deps.git.runOk({
        gitDir: repoPath,
        args: ["update-ref", "--", targetRef, oid],
        signal: ctx.signal,
      });
      return { result: true };
    } finally {
      source.close();
    }
  });
}

async function hasCommit(deps: ServiceDeps, repoPath: string, oid: string, signal: AbortSignal) {
  const result = await deps.git.run({
    gitDir: repoPath,
    args: ["cat-file", "-e", `${oid}^{commit}`],
    signal,
  });
  return result.code === 0;
}
