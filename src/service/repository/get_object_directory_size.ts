/**
 * `GetObjectDirectorySize`: the size in KiB (rounded down) of the object
 * directory the request names in `git_object_directory`, relative to the
 * repository (GitLab asks for a push's quarantine directory this way), as
 * Gitaly reports it.
 *
 * @module
 */
import { join } from "node:path";
import { invalidArgument, notFound } from "../../server/errors.ts";
import { resolveInside } from "../../server/locator.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { directorySize } from "../shared/storage.ts";

/** Builds the handler. */
export function getObjectDirectorySize(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetObjectDirectorySize"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const objectDirectory = req.repository?.git_object_directory ?? "";
    if (objectDirectory === "") throw invalidArgument("object directory path is not set");
    let path: string;
    try {
      path = resolveInside(repoPath, objectDirectory);
    } catch {
      throw invalidArgument("not a valid relative path: relative path escapes root directory");
    }
    const info = await Deno.stat(path).catch(() => null);
    if (!info?.isDirectory) {
      throw notFound(
        `object directory does not exist: ${JSON.stringify(join(repoPath, objectDirectory))}`,
      );
    }
    return { size: Math.floor((await directorySize(path)) / 1024) };
  });
}
