/**
 * Revisions of operations that work on top of a branch: resolving a
 * revision in the (quarantined) repository with Gitaly's `ResolveRevision`
 * wording, and the start revision of cherry-pick, revert and rebase, which
 * may come from another repository (fetched into the quarantine first), as
 * Gitaly's `fetchStartRevision`.
 *
 * @module
 */
import type { Repository } from "../../proto/types.ts";
import type { CallContext } from "../../server/rpc.ts";
import { Code, internal, invalidArgument, wrapError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { gitalyServers } from "../remote/gitaly_servers.ts";
import { goQuote } from "../shared/git_options.ts";
import { fetchFrom } from "../repository/git_transfer.ts";
import { openSource } from "../repository/replication_source.ts";

const decoder = new TextDecoder();

/** Why Gitaly's `ResolveRevision` refuses `revision`, or undefined when it may be resolved. */
function revisionRefusal(revision: string): string | undefined {
  if (revision === "") return "repository cannot contain empty reference name";
  if (revision.startsWith("-")) {
    return `positional arg ${goQuote(revision)} cannot start with dash '-': invalid argument`;
  }
  return undefined;
}

/**
 * The object id `revision` names in `repoPath` (seen through `env`, e.g. a
 * quarantine), or throws an `Error` with Gitaly's message (`reference not
 * found`) for the caller to wrap.
 */
export async function resolveRevision(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<string> {
  const refusal = revisionRefusal(revision);
  if (refusal) throw new Error(refusal);
  const result = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "rev-parse",
      flags: ["--verify", "--quiet", "--end-of-options"],
      args: [revision],
    },
    env: options.env,
    signal: options.signal,
  });
  if (result.code !== 0) throw new ReferenceNotFoundError();
  return decoder.decode(result.stdout).trim();
}

/** A revision that names no object (Gitaly's `git.ErrReferenceNotFound`). */
export class ReferenceNotFoundError extends Error {
  /** Builds the error with Gitaly's wording. */
  constructor() {
    super("reference not found");
    this.name = "ReferenceNotFoundError";
  }
}

/** What {@link fetchStartRevision} starts from. */
export interface StartRevisionRequest {
  /** The branch the operation updates; the start when `startBranchName` is empty. */
  branchName: string;
  startBranchName: string;
  /** Where the start branch lives; this repository when absent. */
  startRepository?: Repository | null;
}

/**
 * The commit the operation builds on: `startBranchName` (or `branchName`)
 * resolved in `startRepository` (or this repository); a commit from another
 * repository is fetched into `env`'s object directory (the quarantine)
 * first. Errors as Gitaly's: `resolve start ref: reference not found`
 * (InvalidArgument), `fetch start: …` (Internal). Unlike Gitaly, a start
 * repository on one of this server's storages needs no `gitaly-servers`
 * metadata: it is read directly.
 */
export async function fetchStartRevision(
  deps: ServiceDeps,
  ctx: CallContext,
  repoPath: string,
  env: Record<string, string>,
  req: StartRevisionRequest,
): Promise<string> {
  const startBranch = req.startBranchName || req.branchName;
  const revision = `${startBranch}^{commit}`;
  if (!req.startRepository) {
    try {
      return await resolveRevision(deps, repoPath, revision, { env, signal: ctx.signal });
    } catch (err) {
      throw wrapError("resolve start ref", err, Code.INVALID_ARGUMENT);
    }
  }
  const storage = req.startRepository.storage_name;
  if (!deps.locator.storageNames().includes(storage)) {
    // Gitaly's `remoterepo.New` wording for a server the call does not name.
    const servers = gitalyServers(ctx.metadata);
    if (!servers) throw internal("remote repository: empty gitaly-servers metadata");
    if (!servers[storage]) throw internal("remote repository: storage name not found");
  }
  const source = await openSource(deps, req.startRepository, ctx.metadata).catch((err) => {
    throw wrapError("remote repository", err);
  });
  try {
    const refusal = revisionRefusal(revision);
    if (refusal) throw invalidArgument(`resolve start ref: ${refusal}`);
    const oid = await source.resolveCommit(revision, ctx.signal).catch((err) => {
      throw wrapError("resolve start ref", err, Code.INVALID_ARGUMENT);
    });
    if (!oid) throw invalidArgument("resolve start ref: reference not found");
    const present = await resolveRevision(deps, repoPath, `${oid}^{commit}`, {
      env,
      signal: ctx.signal,
    }).then(() => true, () => false);
    if (!present) {
      const remote = source.gitRemote({
        uploadPackConfig: ["uploadpack.allowAnySHA1InWant=true"],
        gitProtocol: "version=2",
      });
      try {
        await fetchFrom(deps, repoPath, { ...remote, env: { ...remote.env, ...env } }, [oid], {
          tags: false,
          signal: ctx.signal,
        });
      } catch (err) {
        throw internal(`fetch start: ${(err as Error).message}`);
      }
    }
    return oid;
  } finally {
    source.close();
  }
}
