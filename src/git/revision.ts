/**
 * Validation of revisions and reference names that clients send, before
 * they reach a git command line, with the same rules and messages as
 * Gitaly's `ValidateRevision`.
 *
 * @module
 */

/** Relaxations of {@link revisionProblem}. */
export interface RevisionRules {
  /** An empty revision is fine. */
  allowEmpty?: boolean;
  /** `rev:path` is fine; the path part may hold any byte but NUL. */
  allowPathScoped?: boolean;
  /** rev-list's pseudo revisions are fine: `--all`, `--not`, `--branches[=…]`, `--tags[=…]`, `--glob=…`, `--alternate-refs`. */
  allowPseudo?: boolean;
}

const PSEUDO_REVISIONS = new Set(["--all", "--not", "--branches", "--tags", "--alternate-refs"]);
const PSEUDO_PREFIXES = ["--branches=", "--tags=", "--glob="];

/** Whether `revision` is one of rev-list's pseudo revisions (`--all`, `--not`, …). */
export function isPseudoRevision(revision: string): boolean {
  return PSEUDO_REVISIONS.has(revision) || PSEUDO_PREFIXES.some((p) => revision.startsWith(p));
}

/** Why a revision is unsafe to hand to git, or `undefined` when it is fine. */
export function revisionProblem(revision: string, rules: RevisionRules = {}): string | undefined {
  if (rules.allowPseudo && isPseudoRevision(revision)) return undefined;
  if (revision.startsWith("-")) return "revision can't start with '-'";
  if (revision.includes("\0")) return "revision can't contain NUL";
  let rev = revision;
  if (rules.allowPathScoped) {
    const colon = rev.indexOf(":");
    if (colon >= 0) rev = rev.slice(0, colon);
  }
  if (!rules.allowEmpty && rev === "") return "empty revision";
  if (/[ \t\n\r]/.test(rev)) return "revision can't contain whitespace";
  if (rev.includes(":")) return "revision can't contain ':'";
  if (rev.includes("\\")) return "revision can't contain '\\'";
  return undefined;
}

/** A revision that failed {@link revisionProblem}; answered as `InvalidArgument`. */
export class InvalidRevisionError extends Error {
  /** gRPC code this error maps to at the boundary (`InvalidArgument`). */
  readonly grpcCode = 3;

  /** Builds the error; `message` is the problem, optionally prefixed by what was checked. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidRevisionError";
  }
}

/**
 * Throws {@link InvalidRevisionError} when `revision` is unsafe, e.g.
 * `validateRevision(rev, { context: "invalid revision" })` throws
 * `invalid revision: revision can't start with '-'`.
 */
export function validateRevision(
  revision: string,
  rules: RevisionRules & { context?: string } = {},
): void {
  const problem = revisionProblem(revision, rules);
  if (problem) {
    throw new InvalidRevisionError(rules.context ? `${rules.context}: ${problem}` : problem);
  }
}

/**
 * Revisions as `git rev-list --stdin` lines. git before 2.42 accepts no
 * options there, so `--not` is applied by hand (negating what follows with
 * `^`, and un-negating `^rev`); `undefined` when another pseudo revision
 * (`--all`, `--branches`, …) is present and the revisions must go on the
 * command line instead.
 */
export function stdinRevisions(revisions: readonly string[]): string[] | undefined {
  const lines: string[] = [];
  let negated = false;
  for (const revision of revisions) {
    if (revision === "--not") {
      negated = !negated;
      continue;
    }
    if (revision.startsWith("-")) return undefined;
    if (!negated) lines.push(revision);
    else lines.push(revision.startsWith("^") ? revision.slice(1) : `^${revision}`);
  }
  return lines;
}
