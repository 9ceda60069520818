/**
 * Validation of revisions and reference names that clients send, before
 * they reach a git command line.
 *
 * @module
 */

/** Why a revision is unsafe to hand to git, or `undefined` when it is fine. */
export function revisionProblem(revision: string): string | undefined {
  if (revision === "") return "empty revision";
  if (revision.startsWith("-")) return "revision can't start with '-'";
  if (/[\s]/.test(revision)) return "revision can't contain whitespace";
  if (revision.includes("\0")) return "revision can't contain NUL";
  if (revision.includes(":") && !revision.startsWith(":")) return "revision can't contain ':'";
  if (revision.includes("\\")) return "revision can't contain '\\'";
  return undefined;
}
