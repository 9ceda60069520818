/**
 * The one repository locator: turns a `Repository` message (storage name
 * plus a path relative to that storage) into an absolute path inside its
 * storage, or a gRPC error with the code and message Gitaly uses.
 *
 * @module
 */
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import type { StorageConfig } from "./config.ts";
import { failedPrecondition, invalidArgument, notFound } from "./errors.ts";

/** The fields of `gitaly.Repository` the locator reads. */
export interface RepositoryRef {
  storage_name?: string;
  relative_path?: string;
}

/** Options for {@link Locator.repoPath}. */
export interface RepoPathOptions {
  /** Skip the check that a valid git directory exists (e.g. for CreateRepository). */
  allowMissing?: boolean;
}

/**
 * The folder of every storage where the server keeps its own data (temp
 * dirs, state); never a repository, nor a place for one.
 */
export const GITALY_DATA_DIR = "+gitaly";

/** The directories every bare repository has; Gitaly checks the same three. */
const GIT_DIR_ENTRIES = ["objects", "refs", "HEAD"];

/** Maps repositories to paths inside the configured storages. */
export class Locator {
  readonly #storages: Map<string, string>;

  constructor(storages: StorageConfig[]) {
    this.#storages = new Map(storages.map((s) => [s.name, normalize(s.path)]));
  }

  /** The configured storage names. */
  storageNames(): string[] {
    return [...this.#storages.keys()];
  }

  /** The root directory of a storage, or InvalidArgument. */
  storagePath(name: string | undefined): string {
    if (!name) throw invalidArgument("storage name not set");
    const path = this.#storages.get(name);
    if (path === undefined) throw invalidArgument("storage name not found", { storage_name: name });
    return path;
  }

  /**
   * Validates `repo` and returns its absolute path. Unless `allowMissing`, the
   * repository must exist and look like a git directory.
   */
  async repoPath(
    repo: RepositoryRef | null | undefined,
    options: RepoPathOptions = {},
  ): Promise<string> {
    if (!repo || (!repo.storage_name && !repo.relative_path)) {
      throw invalidArgument("repository not set");
    }
    const relativePath = repo.relative_path ?? "";
    if (relativePath === "") throw invalidArgument("repository path not set");
    const root = this.storagePath(repo.storage_name);
    await assertStorageExists(root);
    const path = resolveInside(root, relativePath);
    assertNotInternal(root, path, relativePath);
    await assertNoSymlinkEscape(root, path, relativePath);
    if (!options.allowMissing) await assertGitDirectory(path, repo);
    return path;
  }
}

/** Joins `relativePath` onto `root`, refusing absolute paths and `..` escapes. */
export function resolveInside(root: string, relativePath: string): string {
  if (isAbsolute(relativePath)) {
    throw invalidArgument("relative path must not be absolute", { relative_path: relativePath });
  }
  const path = join(root, relativePath);
  if (path !== root && !path.startsWith(root + sep)) {
    throw invalidArgument("relative path escapes root directory", { relative_path: relativePath });
  }
  return path;
}

/**
 * Refuses paths inside the storage's own data folder. Gitaly 16.7 lets
 * RPCs create and use repositories there (`+gitaly/x.git` works); a client
 * must not be able to touch the server's temp and state files, so we answer
 * InvalidArgument, like a path that escapes the storage.
 */
function assertNotInternal(root: string, path: string, relativePath: string): void {
  if (relative(root, path).split(sep)[0] === GITALY_DATA_DIR) {
    throw invalidArgument(`relative path is inside the reserved directory ${GITALY_DATA_DIR}`, {
      relative_path: relativePath,
    });
  }
}

async function assertStorageExists(root: string): Promise<void> {
  try {
    await Deno.stat(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw notFound("storage does not exist", { storage_path: root });
    }
    throw err;
  }
}

/**
 * Resolves symlinks along the deepest existing ancestor of `path` and
 * checks the result is still inside the storage's real root.
 */
async function assertNoSymlinkEscape(
  root: string,
  path: string,
  relativePath: string,
): Promise<void> {
  const realRoot = await Deno.realPath(root);
  let existing = path;
  while (existing !== root) {
    try {
      const real = await Deno.realPath(existing);
      const rel = relative(realRoot, real);
      if (rel.startsWith("..") || isAbsolute(rel)) {
        throw invalidArgument("relative path escapes root directory", {
          relative_path: relativePath,
        });
      }
      // A symlink may not lead into the reserved folder either.
      assertNotInternal(realRoot, real, relativePath);
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      existing = join(existing, "..");
    }
  }
}

/** Whether `path` is a directory holding what every git directory has (HEAD, objects, refs). */
export async function isGitDirectory(path: string): Promise<boolean> {
  const info = await Deno.stat(path).catch(() => null);
  if (!info?.isDirectory) return false;
  for (const entry of GIT_DIR_ENTRIES) {
    if (!await Deno.stat(join(path, entry)).then(() => true, () => false)) return false;
  }
  return true;
}

async function assertGitDirectory(path: string, repo: RepositoryRef): Promise<void> {
  const info = await Deno.stat(path).catch(() => null);
  if (!info?.isDirectory) {
    throw notFound("repository not found", {
      storage_name: repo.storage_name ?? "",
      relative_path: repo.relative_path ?? "",
    });
  }
  for (const entry of GIT_DIR_ENTRIES) {
    const found = await Deno.stat(join(path, entry)).then(() => true, () => false);
    if (!found) {
      throw failedPrecondition(`repository not valid: ${JSON.stringify(entry)} does not exist`);
    }
  }
}
