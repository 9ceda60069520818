/**
 * Revision look-ups the CommitService RPCs share.
 *
 * @module
 */
import type { ServiceDeps } from "../deps.ts";

/**
 * The default branch as Gitaly picks it: none without branches; the only
 * branch; the branch HEAD points to; else `refs/heads/main`, else
 * `refs/heads/master`, else the first branch. "" when there is none.
 */
export async function defaultBranch(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
): Promise<string> {
  const branches = (await deps.git.runText({
    gitDir: repoPath,
    command: { name: "for-each-ref", flags: ["--format=%(refname)"], args: ["refs/heads/"] },
    signal,
  })).split("\n").filter((b) => b !== "");
  if (branches.length <= 1) return branches[0] ?? "";
  const head = await deps.git.run({
    gitDir: repoPath,
    command: { name: "symbolic-ref", flags: ["--quiet"], args: ["HEAD"] },
    signal,
  });
  const target = new TextDecoder().decode(head.stdout).trim();
  if (head.code === 0 && branches.includes(target)) return target;
  for (const fallback of ["refs/heads/main", "refs/heads/master"]) {
    if (branches.includes(fallback)) return fallback;
  }
  return branches[0];
}

/** Whether cat-file can be asked for `revision` at all (non-empty, one line, no NUL). */
export function isReadable(revision: string): boolean {
  return revision !== "" && !revision.includes("\n") && !revision.includes("\0");
}
