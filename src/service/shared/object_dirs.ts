/**
 * The object directories a request's `Repository` names: a quarantine
 * directory (`git_object_directory`, where a push being checked keeps its
 * new objects) and alternates (`git_alternate_object_directories`), both
 * relative to the repository. Git sees them through `GIT_OBJECT_DIRECTORY`
 * and `GIT_ALTERNATE_OBJECT_DIRECTORIES`, as with Gitaly; unlike Gitaly we
 * refuse directories outside the repository's storage.
 *
 * @module
 */
import { join, normalize, sep } from "node:path";
import type { Repository } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Locator } from "../../server/locator.ts";

/** The parts of a `Repository` message that name object directories. */
export type ObjectDirectories = Pick<
  Partial<Repository>,
  "storage_name" | "git_object_directory" | "git_alternate_object_directories"
>;

/**
 * Environment for git commands and cat-file processes in `repoPath` that
 * honours `repo`'s object directories; undefined when it names none.
 */
export function objectDirectoryEnv(
  locator: Locator,
  repoPath: string,
  repo: ObjectDirectories | null | undefined,
): Record<string, string> | undefined {
  const objectDirectory = repo?.git_object_directory ?? "";
  const alternates = repo?.git_alternate_object_directories ?? [];
  if (objectDirectory === "" && alternates.length === 0) return undefined;
  const root = locator.storagePath(repo?.storage_name);
  const inside = (dir: string, field: string) => {
    const path = normalize(join(repoPath, dir));
    if (path !== root && !path.startsWith(root + sep)) {
      throw invalidArgument(`${field}: relative path escapes root directory`);
    }
    return path;
  };
  const env: Record<string, string> = {};
  if (objectDirectory !== "") {
    env.GIT_OBJECT_DIRECTORY = inside(objectDirectory, "git_object_directory");
  }
  if (alternates.length > 0) {
    env.GIT_ALTERNATE_OBJECT_DIRECTORIES = alternates
      .map((dir) => inside(dir, "git_alternate_object_directories"))
      .join(":");
  }
  return env;
}

/** A request's repository located, with the environment of its object directories. */
export interface LocatedRepository {
  repoPath: string;
  env?: Record<string, string>;
}

/** Locates `repo` (Gitaly's errors when it is missing) and reads its object directories. */
export async function locateWithObjects(
  locator: Locator,
  repo: (ObjectDirectories & { relative_path?: string }) | null | undefined,
): Promise<LocatedRepository> {
  const repoPath = await locator.repoPath(repo);
  return { repoPath, env: objectDirectoryEnv(locator, repoPath, repo) };
}
