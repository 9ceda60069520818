/**
 * Creating a repository with content, atomically: the repository is built
 * in the storage's temp dir (initialised, or left for `git clone` to
 * create), filled by a seed function, and only then moved into place. Any
 * failure leaves nothing at the target path. Behind Praefect the move is
 * voted on (see `repository_vote.ts`).
 *
 * @module
 */
import { join } from "node:path";
import type { Repository } from "../../proto/types.ts";
import { alreadyExists } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { exists, makeStorageTempDir, moveIntoPlace } from "../shared/storage.ts";
import { votedMove } from "../shared/repository_vote.ts";
import type { VotingContext } from "../shared/transaction.ts";

/** Options of {@link createSeededRepository}. */
export interface SeededCreateOptions {
  /** Leave the staging path absent so the seed can `git clone` into it. */
  skipInit?: boolean;
  signal?: AbortSignal;
  /** The call, whose Praefect transaction (if any) votes on the new repository. */
  ctx?: VotingContext;
}

/**
 * Creates `repository` from what `seed` puts at the staging path it is
 * given. `AlreadyExists` when the target exists (checked before and, under
 * the lock, again at the move).
 */
export async function createSeededRepository(
  deps: ServiceDeps,
  repository: Repository,
  seed: (stagingRepoPath: string) => Promise<void>,
  options: SeededCreateOptions = {},
): Promise<void> {
  const repoPath = await deps.locator.repoPath(repository, { allowMissing: true });
  if (await exists(repoPath)) throw alreadyExists("repository exists already");
  const staging = await makeStorageTempDir(
    deps.locator.storagePath(repository.storage_name),
    "seed-",
  );
  try {
    const stagingRepo = join(staging, "repo.git");
    if (!options.skipInit) {
      await deps.git.runOk({
        // Gitaly's default branch is `main`, whatever git's own default; no templates.
        args: ["init", "--bare", "--quiet", "--template=", "--initial-branch=main", stagingRepo],
        signal: options.signal,
      });
    }
    await seed(stagingRepo);
    options.signal?.throwIfAborted();
    await moveIntoPlace(stagingRepo, repoPath, votedMove(deps, options.ctx, stagingRepo));
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}
