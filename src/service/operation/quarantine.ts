/**
 * An object quarantine for one operation, as Gitaly's `quarantine.New`:
 * a fresh directory under the storage's `+gitaly/tmp`
 * (`quarantine-<first 8 bytes of sha1(relative path)>-<random>`) that
 * receives every object the operation writes, while the repository's own
 * object directories stay readable as alternates. Once the hooks accepted
 * the change, {@link Quarantine.migrate} moves the objects into the
 * repository; an operation that is refused calls only
 * {@link Quarantine.cleanup}, and the repository never sees its objects.
 *
 * Use:
 *
 * ```ts
 * const quarantine = await Quarantine.create(deps, req.repository);
 * try {
 *   // git writes into the quarantine: pass quarantine.env to every command
 *   // and cat-file read that must see the new objects
 *   await deps.git.runOk({ gitDir: repoPath, command: {...}, env: quarantine.env });
 *   await deps.catfile.info(repoPath, oid, { env: quarantine.env, signal });
 *   // the hooks get quarantine.repository; updateReferenceWithHooks migrates
 *   await updateReferenceWithHooks(deps, ctx, { ..., quarantine });
 * } finally {
 *   await quarantine.cleanup();
 * }
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import type { Repository } from "../../proto/types.ts";
import { internal } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { objectDirectoryEnv } from "../shared/object_dirs.ts";
import { makeStorageTempDir } from "../shared/storage.ts";

/**
 * The stable prefix of a repository's quarantine directories (Gitaly's
 * `QuarantineDirectoryPrefix`): from the relative path, so a quarantine
 * directory can be told to belong to its repository.
 */
export function quarantineDirectoryPrefix(relativePath: string): string {
  const hash = createHash("sha1").update(relativePath).digest("hex");
  return `quarantine-${hash.slice(0, 16)}-`;
}

/** A quarantine object directory; see the module documentation. */
export class Quarantine {
  #cleaned = false;

  private constructor(
    private readonly deps: Pick<ServiceDeps, "locator" | "catfile">,
    /** The repository's absolute path. */
    readonly repoPath: string,
    /** The quarantine directory's absolute path. */
    readonly dir: string,
    /** The request's repository, unchanged. */
    readonly original: Partial<Repository>,
    /**
     * The request's repository with `git_object_directory` set to the
     * quarantine and `git_alternate_object_directories` to `objects`, the
     * request's own object directory and alternates (relative to the
     * repository): what the hooks and GitLab's `/allowed` get.
     */
    readonly repository: Partial<Repository>,
    /**
     * `GIT_OBJECT_DIRECTORY` (the quarantine) and
     * `GIT_ALTERNATE_OBJECT_DIRECTORIES` (the repository's object
     * directories) for git commands and cat-file reads.
     */
    readonly env: Record<string, string>,
  ) {}

  /**
   * Creates the quarantine directory for `repository` (located with
   * `deps.locator`, which gives Gitaly's errors for a bad repository).
   * Failing to create the directory is `Internal` "creating object
   * quarantine: …" as in Gitaly.
   */
  static async create(
    deps: Pick<ServiceDeps, "locator" | "catfile">,
    repository: Partial<Repository> | null | undefined,
  ): Promise<Quarantine> {
    const repoPath = await deps.locator.repoPath(repository);
    const repo = { ...repository } as Partial<Repository>;
    const storagePath = deps.locator.storagePath(repo.storage_name);
    let dir: string;
    try {
      dir = await makeStorageTempDir(
        storagePath,
        quarantineDirectoryPrefix(repo.relative_path ?? ""),
      );
    } catch (error) {
      throw internal(
        `creating object quarantine: creating quarantine: ${(error as Error).message}`,
      );
    }
    const alternates = ["objects"];
    if (repo.git_object_directory) alternates.push(repo.git_object_directory);
    alternates.push(...repo.git_alternate_object_directories ?? []);
    const quarantined: Partial<Repository> = {
      ...repo,
      git_object_directory: relative(repoPath, dir),
      git_alternate_object_directories: alternates,
    };
    const env = objectDirectoryEnv(deps.locator, repoPath, quarantined)!;
    return new Quarantine(deps, repoPath, dir, repo, quarantined, env);
  }

  /**
   * Moves every object of the quarantine into the repository's `objects`
   * as git's `tmp_objdir_migrate` does: loose objects and other files
   * first, then each pack's `.keep`, `.pack`, `.rev`, `.idx` (so a pack is
   * complete before its index makes it visible), hard-linked where
   * possible (an existing object is kept) or renamed. The quarantine
   * directory is gone afterwards.
   */
  async migrate(): Promise<void> {
    try {
      await migrateDirectory(this.dir, join(this.repoPath, "objects"));
    } catch (error) {
      throw new Error(`migrating quarantined objects: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Removes the quarantine directory with whatever it still holds, and the
   * idle cat-file processes that read it. Idempotent; call it in `finally`.
   */
  async cleanup(): Promise<void> {
    if (this.#cleaned) return;
    this.#cleaned = true;
    this.deps.catfile.evict(this.repoPath, this.env);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  /** {@link cleanup}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.cleanup();
  }
}

/** Where a file of an object directory goes in the migration order (git's `pack_copy_priority`). */
function copyPriority(name: string): number {
  if (!name.startsWith("pack")) return 0;
  if (name.endsWith(".keep")) return 1;
  if (name.endsWith(".pack")) return 2;
  if (name.endsWith(".rev")) return 3;
  if (name.endsWith(".idx")) return 4;
  return 5;
}

async function migrateDirectory(source: string, target: string): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(source)) entries.push(entry);
  // Stable within a priority: name order, as a directory listing gives it.
  entries.sort((a, b) =>
    copyPriority(a.name) - copyPriority(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  for (const entry of entries) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory) {
      try {
        await Deno.mkdir(to, { mode: 0o755 });
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) {
          throw new Error(`creating target directory "${to}": ${(error as Error).message}`);
        }
      }
      await migrateDirectory(from, to);
      continue;
    }
    await finalizeObjectFile(from, to);
  }
  await Deno.remove(source);
}

/** Hard-links `from` to `to` (keeping an existing `to`), else renames it; `from` is removed. */
async function finalizeObjectFile(from: string, to: string): Promise<void> {
  try {
    await Deno.link(from, to);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      try {
        await Deno.rename(from, to);
        return;
      } catch (renameError) {
        throw new Error(`migrating object file "${from}": ${(renameError as Error).message}`);
      }
    }
  }
  await Deno.remove(from).catch(() => {});
}

/**
 * Runs `fn` with a new quarantine for `repository` and cleans it up
 * afterwards, whatever happens. Creating the quarantine validates and
 * locates the repository (`quarantine.repoPath`).
 */
export async function withQuarantine<T>(
  deps: Pick<ServiceDeps, "locator" | "catfile">,
  repository: Partial<Repository> | null | undefined,
  fn: (quarantine: Quarantine) => Promise<T>,
): Promise<T> {
  const quarantine = await Quarantine.create(deps, repository);
  try {
    return await fn(quarantine);
  } finally {
    await quarantine.cleanup();
  }
}
