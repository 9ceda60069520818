/**
 * Resolving the commits a conflicts request names, with Gitaly's messages.
 *
 * @module
 */
import { failedPrecondition } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";

/** Where a revision is looked up: the repository and its (quarantine) environment. */
export interface Lookup {
  deps: ServiceDeps;
  repoPath: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * The commit `revision` peels to, or null when there is none. A revision
 * starting with `-` is an error with Gitaly's wording for positional
 * arguments.
 */
export async function peelCommit(lookup: Lookup, revision: string): Promise<string | null> {
  const peeled = `${revision}^{commit}`;
  if (revision.startsWith("-")) {
    throw new Error(
      `positional arg ${JSON.stringify(peeled)} cannot start with dash '-': invalid argument`,
    );
  }
  // Not a revision git could resolve (cat-file reads one a line).
  if (/[\n\0]/.test(revision)) return null;
  const info = await lookup.deps.catfile.info(lookup.repoPath, peeled, {
    env: lookup.env,
    signal: lookup.signal,
  });
  return info?.oid ?? null;
}

/**
 * The commit id of `revision` for ListConflictFiles: `FailedPrecondition`
 * `could not lookup '<side>' OID: …` when it names no commit.
 */
export async function resolveCommitOid(
  lookup: Lookup,
  revision: string,
  side: "our" | "their",
): Promise<string> {
  let oid: string | null;
  try {
    oid = await peelCommit(lookup, revision);
  } catch (error) {
    throw failedPrecondition(`could not lookup '${side}' OID: ${(error as Error).message}`);
  }
  if (oid === null) throw failedPrecondition(`could not lookup '${side}' OID: reference not found`);
  return oid;
}
