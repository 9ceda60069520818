/**
 * Storage-level file operations that keep repositories consistent across
 * crashes: staging in the storage's temp dir, locking, atomic renames.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { alreadyExists, failedPrecondition, internal } from "../../server/errors.ts";
import { GITALY_DATA_DIR } from "../../server/locator.ts";

/** A fresh, empty directory under the storage's temp folder. */
export async function makeStorageTempDir(storagePath: string, prefix: string): Promise<string> {
  const tmpRoot = join(storagePath, GITALY_DATA_DIR, "tmp");
  await Deno.mkdir(tmpRoot, { recursive: true });
  return await Deno.makeTempDir({ dir: tmpRoot, prefix });
}

/**
 * Takes the `<repo>.lock` file exclusively, runs `fn`, then releases it.
 * A lock that exists already means another operation owns the repository.
 */
export async function withRepositoryLock<T>(repoPath: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${repoPath}.lock`;
  await Deno.mkdir(dirname(repoPath), { recursive: true });
  try {
    (await Deno.open(lockPath, { createNew: true, write: true })).close();
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw failedPrecondition("repository is already locked");
    }
    throw err;
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(lockPath).catch(() => {});
  }
}

/**
 * Moves a fully prepared repository into place; refuses to replace one.
 * `around` (e.g. transactional votes) runs under the lock once the target
 * is known to be free, and calls `rename` to make the move.
 */
export async function moveIntoPlace(
  stagedPath: string,
  repoPath: string,
  around: (rename: () => Promise<void>) => Promise<void> = (rename) => rename(),
): Promise<void> {
  await withRepositoryLock(repoPath, async () => {
    if (await exists(repoPath)) throw alreadyExists("repository exists already");
    await around(() => Deno.rename(stagedPath, repoPath));
  });
}

/**
 * Removes a repository: renamed away first, so a crash never leaves half of
 * it in place. `around` (e.g. transactional votes) runs under the lock and
 * calls `rename` to move the repository away; the deletion follows.
 */
export async function removeRepositoryDir(
  storagePath: string,
  repoPath: string,
  around: (rename: () => Promise<void>) => Promise<void> = (rename) => rename(),
): Promise<void> {
  await withRepositoryLock(repoPath, async () => {
    const trash = await makeStorageTempDir(storagePath, "removed-");
    try {
      await around(() => Deno.rename(repoPath, join(trash, "repo")));
    } finally {
      await Deno.remove(trash, { recursive: true });
    }
  });
}

/** Whether a path exists (any kind). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Sum of the sizes of all files below `path`, in bytes; vanishing files are skipped. */
export async function directorySize(path: string): Promise<number> {
  let total = 0;
  for await (const entry of readDirOrEmpty(path)) {
    const child = join(path, entry.name);
    if (entry.isDirectory) total += await directorySize(child);
    else if (entry.isFile) total += await Deno.lstat(child).then((s) => s.size, () => 0);
  }
  return total;
}

/** The entries of a directory; none when it does not exist (or vanished meanwhile). */
export async function* readDirOrEmpty(path: string): AsyncGenerator<Deno.DirEntry> {
  try {
    yield* Deno.readDir(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Opens `path` for reading; undefined when it does not exist. Any other
 * failure is `Internal`, prefixed with `what`.
 */
export async function openIfExists(path: string, what: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw internal(`${what}: ${(err as Error).message}`);
  }
}
