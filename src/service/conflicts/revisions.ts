/**
 * Resolving the commits a conflicts request names (with Gitaly's messages)
 * and paths in merged trees.
 *
 * @module
 */
import { failedPrecondition } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";

const decoder = new TextDecoder();

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

/**
 * The entry at `path` in `tree` (`git ls-tree`), or null: its id also when
 * the object is not in the repository (a submodule's commit). The empty
 * path names the tree itself, as `<tree>:` does.
 */
export async function treeEntry(
  lookup: Lookup,
  tree: string,
  path: string,
): Promise<{ mode: string; type: string; oid: string } | null> {
  if (path === "") return { mode: "040000", type: "tree", oid: tree };
  const result = await lookup.deps.git.run({
    gitDir: lookup.repoPath,
    command: { name: "ls-tree", flags: ["-z", "--full-tree"], args: [tree], postSepArgs: [path] },
    env: { ...lookup.env, GIT_LITERAL_PATHSPECS: "1" },
    signal: lookup.signal,
  });
  if (result.code !== 0) return null;
  for (const record of decoder.decode(result.stdout).split("\0")) {
    const tab = record.indexOf("\t");
    if (tab < 0 || record.slice(tab + 1) !== path) continue;
    const [mode, type, oid] = record.slice(0, tab).split(" ");
    return { mode, type, oid };
  }
  return null;
}
