/**
 * Revision lists with rev-list's pseudo revisions (`--all`, `--not`,
 * `--branches=…`, …) turned into a command line whose positional
 * arguments never start with `-`: pseudo revisions become flags and
 * `--not` is folded into the sign of the revisions after it, which gives
 * rev-list the same sets of included and excluded commits.
 *
 * @module
 */
import { isPseudoRevision, validateRevision } from "../../git/revision.ts";
import { invalidArgument } from "../../server/errors.ts";

/** A revision list as flags (pseudo revisions, in order) and positional revisions. */
export interface RevisionArgs {
  flags: string[];
  args: string[];
}

/**
 * Validates `revisions` with Gitaly's rules (pseudo revisions allowed,
 * messages prefixed `invalid revision`) and splits them for a command
 * description. Throws `InvalidArgument` for a range after `--not`, which
 * has no positional equivalent.
 */
export function revisionArgs(revisions: readonly string[]): RevisionArgs {
  for (const revision of revisions) {
    validateRevision(revision, { allowPseudo: true, context: "invalid revision" });
  }
  const included: string[] = [];
  const excluded: string[] = [];
  const args: string[] = [];
  let negated = false;
  for (const revision of revisions) {
    if (revision === "--not") {
      negated = !negated;
    } else if (isPseudoRevision(revision)) {
      (negated ? excluded : included).push(revision);
    } else if (!negated) {
      args.push(revision);
    } else if (revision.includes("..")) {
      throw invalidArgument(`invalid revision: range ${JSON.stringify(revision)} after --not`);
    } else {
      args.push(revision.startsWith("^") ? revision.slice(1) : `^${revision}`);
    }
  }
  const flags = [...included];
  if (excluded.length > 0) flags.push("--not", ...excluded, "--not");
  return { flags, args };
}
