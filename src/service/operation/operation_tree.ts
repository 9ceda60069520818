/**
 * What the tree-building operations (UserCommitFiles, UserUpdateSubmodule)
 * share: a {@link TreeEditor} store reading trees through the cat-file
 * cache and writing them with `git hash-object`, both inside the
 * operation's quarantine, revision lookups there, and blob writes streamed
 * into `git hash-object -w --stdin`.
 *
 * @module
 */
import { readTree } from "../../git/tree.ts";
import { type TreeStore, TreeWriteError } from "../../git/tree_editor.ts";
import type { ServiceDeps } from "../deps.ts";
import type { Quarantine } from "./quarantine.ts";

const decoder = new TextDecoder();

/** Reads and writes trees of `quarantine`'s repository, new objects into the quarantine. */
export function quarantineTreeStore(
  deps: ServiceDeps,
  quarantine: Quarantine,
  signal: AbortSignal,
): TreeStore {
  return {
    read: (oid) => readTree(deps.catfile, quarantine.repoPath, oid, signal, quarantine.env),
    async write(content) {
      const result = await deps.git.run({
        gitDir: quarantine.repoPath,
        command: { name: "hash-object", flags: ["-ttree", "-w", "--stdin"] },
        stdin: content,
        env: quarantine.env,
        signal,
      });
      if (result.code !== 0) throw new TreeWriteError(`exit status ${result.code}`);
      return decoder.decode(result.stdout).trim();
    },
  };
}

/** The object id `revision` names in the quarantined repository, or null. */
export async function resolveInQuarantine(
  deps: ServiceDeps,
  quarantine: Quarantine,
  revision: string,
  signal: AbortSignal,
): Promise<string | null> {
  if (revision.includes("\n")) return null;
  const info = await deps.catfile.info(quarantine.repoPath, revision, {
    env: quarantine.env,
    signal,
  });
  return info?.oid ?? null;
}

/** Whether the repository at `repoPath` has any branch (Gitaly's `HasBranches`). */
export async function hasBranches(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
): Promise<boolean> {
  const out = await deps.git.runText({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--count=1", "--format=%(refname)"],
      args: ["refs/heads/"],
    },
    signal,
  });
  return out !== "";
}

/**
 * Writes a blob into the quarantine from `content` (streamed into `git
 * hash-object -w --stdin`, with `--path` so the repository's attributes
 * apply as they do for Gitaly); returns its id.
 */
export async function writeBlob(
  deps: ServiceDeps,
  quarantine: Quarantine,
  path: string | undefined,
  content: ReadableStream<Uint8Array> | Uint8Array,
  signal: AbortSignal,
): Promise<string> {
  return await deps.git.runText({
    gitDir: quarantine.repoPath,
    command: {
      name: "hash-object",
      flags: ["--stdin", "-w", ...(path ? [`--path=${path}`] : [])],
    },
    stdin: content,
    env: quarantine.env,
    signal,
  });
}
