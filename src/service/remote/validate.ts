/**
 * Checks for repositories this server may not own (a source on another
 * server): the fields must be set, the path must stay inside whatever
 * storage it names. Existence is the owning server's business.
 *
 * @module
 */
import { isAbsolute, normalize } from "node:path";
import { invalidArgument } from "../../server/errors.ts";

/** The repository fields checked. */
export interface RepositoryFields {
  storage_name?: string;
  relative_path?: string;
}

/** `InvalidArgument` (message prefixed by `prefix`) unless `repo` names a storage and a clean path. */
export function validateRepositoryFields(
  repo: RepositoryFields | null | undefined,
  prefix = "",
): void {
  if (!repo || (!repo.storage_name && !repo.relative_path)) {
    throw invalidArgument(`${prefix}repository not set`);
  }
  const path = repo.relative_path ?? "";
  if (path === "") throw invalidArgument(`${prefix}repository path not set`);
  if (!repo.storage_name) throw invalidArgument(`${prefix}storage name not set`);
  const clean = normalize(path);
  if (isAbsolute(path) || clean === ".." || clean.startsWith("../")) {
    throw invalidArgument(`${prefix}relative path escapes root directory`, { relative_path: path });
  }
}
