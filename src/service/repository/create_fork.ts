/**
 * `CreateFork`: a new repository cloned from another one, which may live
 * on another storage or another server (see `replication_source.ts`). The
 * clone happens in the storage's temp dir and is moved into place only
 * once complete; its `origin` remote is removed.
 *
 * @module
 */
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { validateRepositoryFields } from "../remote/validate.ts";
import { createSeededRepository } from "./create_seeded.ts";
import { wrapError } from "../../server/errors.ts";
import { cloneFrom, removeOrigin } from "./git_transfer.ts";
import { openSource } from "./replication_source.ts";

/** Builds the handler. */
export function createFork(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "CreateFork"> {
  return unary(async (req, ctx) => {
    // The source may live elsewhere: only its fields are checked here.
    validateRepositoryFields(req.source_repository, "validating source repository: ");
    await deps.locator.repoPath(req.repository, { allowMissing: true });
    const branch = forkBranch(req.revision);
    const source = await openSource(deps, req.source_repository!, ctx.metadata);
    try {
      await createSeededRepository(deps, req.repository!, async (target) => {
        await cloneFrom(deps, source.gitRemote(), target, {
          bare: true,
          branch,
          config: [{ key: "fetch.fsckObjects", value: "false" }],
          signal: ctx.signal,
        });
        await checkHead(deps, target, branch, ctx.signal);
        await removeOrigin(deps, target, ctx.signal);
      }, { skipInit: true, signal: ctx.signal, ctx });
    } catch (err) {
      throw wrapError("creating fork", err);
    } finally {
      source.close();
    }
    return {};
  });
}

/** The branch a fork is limited to (`revision` must be `refs/heads/<name>`), if any. */
function forkBranch(revision: Uint8Array | undefined): string | undefined {
  if (!revision?.length) return undefined;
  const ref = text(revision);
  if (!ref.startsWith("refs/heads/")) {
    throw wrapError(
      "creating fork",
      invalidArgument("reference is not a branch", { reference: ref }),
    );
  }
  const branch = ref.slice("refs/heads/".length);
  if (branch === "") throw wrapError("creating fork", invalidArgument("branch name is empty"));
  return branch;
}

/** HEAD must be a symbolic ref, and the requested branch when one was asked for. */
async function checkHead(
  deps: ServiceDeps,
  repoPath: string,
  branch: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const result = await deps.git.run({ gitDir: repoPath, args: ["symbolic-ref", "HEAD"], signal });
  if (result.code !== 0) {
    throw internal(`checking whether HEAD reference is sane: ${result.stderr.trim()}`);
  }
  const target = new TextDecoder().decode(result.stdout).trim();
  if (branch !== undefined && target !== `refs/heads/${branch}`) {
    throw internal("HEAD points to unexpected reference", {
      expected_target: `refs/heads/${branch}`,
      actual_target: target,
    });
  }
}
