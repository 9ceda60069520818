/**
 * `CreateRepository`: `git init --bare` in the storage's temp dir, then an
 * atomic move into place, so a crash never leaves a half-made repository.
 * Behind Praefect the move is voted on (see `repository_vote.ts`).
 *
 * @module
 */
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { alreadyExists } from "../../server/errors.ts";
import { exists, makeStorageTempDir, moveIntoPlace } from "../shared/storage.ts";
import { votedMove } from "../shared/repository_vote.ts";
import type { VotingContext } from "../shared/transaction.ts";
import { join } from "node:path";
import { GitCommandError } from "../../git/command.ts";

const OBJECT_FORMATS: Record<string, string> = {
  "0": "sha1",
  "1": "sha1",
  "2": "sha256",
  OBJECT_FORMAT_UNSPECIFIED: "sha1",
  OBJECT_FORMAT_SHA1: "sha1",
  OBJECT_FORMAT_SHA256: "sha256",
};

/** Maps the `ObjectFormat` enum (name or number) to git's name, or InvalidArgument. */
export function objectFormatName(format: unknown): string {
  const name = OBJECT_FORMATS[String(format ?? 0)];
  // Gitaly quotes the value as a string, also when it is a number: `"7"`.
  if (!name) throw invalidArgument(`unknown object format: ${JSON.stringify(String(format))}`);
  return name;
}

/** Builds the handler. */
export function createRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateRepository"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository, { allowMissing: true });
    const format = objectFormatName(req.object_format);
    const branch = text(req.default_branch);
    if (await exists(repoPath)) {
      throw alreadyExists("creating repository: repository exists already");
    }
    await initRepository(deps, {
      storagePath: deps.locator.storagePath(req.repository!.storage_name),
      repoPath,
      format,
      branch,
      signal: ctx.signal,
      ctx,
    });
    return {};
  });
}

/** What {@link initRepository} needs. */
export interface InitOptions {
  storagePath: string;
  repoPath: string;
  format: string;
  branch?: string;
  signal?: AbortSignal;
  /** The call, whose Praefect transaction (if any) votes on the new repository. */
  ctx?: VotingContext;
}

/** Creates a bare repository at `repoPath` by way of the storage temp dir. */
export async function initRepository(deps: ServiceDeps, options: InitOptions): Promise<void> {
  const staging = await makeStorageTempDir(options.storagePath, "create-");
  try {
    const repo = join(staging, "repo.git");
    // No templates, as with Gitaly: no sample hooks or description, and the
    // same files (hence the same vote) on every node.
    const args = ["init", "--bare", "--quiet", "--template=", `--object-format=${options.format}`];
    // Gitaly hands `default_branch` to git as it is (`refs/heads/x` names a branch
    // `refs/heads/x`); without one, HEAD points at `refs/heads/main`, the runner's
    // `init.defaultBranch`.
    if (options.branch) args.push(`--initial-branch=${options.branch}`);
    await deps.git.runOk({ args: [...args, repo], signal: options.signal }).catch((err) => {
      // A name git refuses is the caller's mistake (Gitaly answers Internal).
      if (err instanceof GitCommandError && /invalid initial branch name/.test(err.stderr)) {
        throw invalidArgument(`invalid default branch: ${JSON.stringify(options.branch)}`);
      }
      throw err;
    });
    await moveIntoPlace(repo, options.repoPath, votedMove(deps, options.ctx, repo))
      .catch((error) => {
        throw wrapError("creating repository", error);
      });
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}
