/**
 * Three-way merges without a worktree: `git merge-tree --write-tree -z`,
 * its output parsed as Gitaly's `MergeTree` parses it. A clean merge gives
 * the merged tree; a conflicting one throws {@link MergeTreeConflictError}
 * with the conflicting files (mode, object id, stage) and git's messages.
 *
 * Gitaly passes `--merge-base` (git 2.40) to merge against a base of its
 * choosing (cherry-pick, revert, rebase). Git 2.39 lacks it, so with
 * `mergeBase` the merge runs on synthetic commits instead: a parentless
 * commit of the base's tree and, on top of it, one commit with each side's
 * tree, whose only merge base is then that commit. The merged tree is the
 * one `--merge-base` gives. The synthetic commits are written to the same
 * object directory (unreachable: housekeeping prunes them); git's messages
 * name the sides as given, but the conflict markers inside a conflicted
 * tree name the synthetic commits.
 *
 * @module
 */
import type { GitRunner } from "./command.ts";

/** One conflicting path as merge-tree lists it. */
export interface ConflictingFile {
  path: string;
  /** File mode (0 with `nameOnly`). */
  mode: number;
  /** Blob id ("" with `nameOnly`). */
  oid: string;
  /** 1 ancestor, 2 ours, 3 theirs (0 with `nameOnly`). */
  stage: number;
}

/** One informational or conflict message of merge-tree. */
export interface ConflictMessage {
  paths: string[];
  /** e.g. `CONFLICT (contents)`, `Auto-merging`. */
  type: string;
  message: string;
}

/** The merge conflicts (`mergeTree` throws it). */
export class MergeTreeConflictError extends Error {
  /** Builds the error; the message is Gitaly's. */
  constructor(
    /** The tree with conflict markers that merge-tree wrote anyway. */
    readonly tree: string,
    readonly conflictingFiles: ConflictingFile[],
    readonly messages: ConflictMessage[],
  ) {
    super("merge: there are conflicting files");
    this.name = "MergeTreeConflictError";
  }

  /** The conflicting paths, each once, in merge-tree's order. */
  conflictedFiles(): string[] {
    return [...new Set(this.conflictingFiles.map((file) => file.path))];
  }
}

/** The two sides share no history and `allowUnrelatedHistories` was not given. */
export class MergeTreeUnrelatedHistoryError extends Error {
  /** Builds the error with Gitaly's wording. */
  constructor() {
    super("unrelated histories");
    this.name = "MergeTreeUnrelatedHistoryError";
  }
}

/** What {@link mergeTree} merges and how. */
export interface MergeTreeOptions {
  /** Our side: a commit (revision). */
  ours: string;
  /** Their side: a commit (revision). */
  theirs: string;
  /** Merge against this commit or tree instead of the sides' merge bases. */
  mergeBase?: string;
  allowUnrelatedHistories?: boolean;
  /** List only the conflicting paths (`--name-only`). */
  nameOnly?: boolean;
  /** Extra environment, e.g. a quarantine's object directories. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** Who the synthetic base commits claim to be from (fixed, so they are reproducible). */
const SYNTHETIC_ENV = {
  GIT_AUTHOR_NAME: "merge-base",
  GIT_AUTHOR_EMAIL: "",
  GIT_AUTHOR_DATE: "1000000000 +0000",
  GIT_COMMITTER_NAME: "merge-base",
  GIT_COMMITTER_EMAIL: "",
  GIT_COMMITTER_DATE: "1000000000 +0000",
};

const decoder = new TextDecoder();

/**
 * Merges `theirs` into `ours` and returns the merged tree; see the module
 * documentation for the errors.
 */
export async function mergeTree(
  git: GitRunner,
  gitDir: string,
  options: MergeTreeOptions,
): Promise<{ tree: string }> {
  let { ours, theirs } = options;
  if (options.mergeBase !== undefined) {
    ({ ours, theirs } = await steerMergeBase(git, gitDir, options));
  }
  // Messages name the sides by the arguments: name them as the caller did.
  const label = (text: string) =>
    text.replaceAll(ours, options.ours).replaceAll(theirs, options.theirs);
  const flags = ["-z", "--write-tree"];
  if (options.allowUnrelatedHistories) flags.push("--allow-unrelated-histories");
  if (options.nameOnly) flags.push("--name-only");
  const result = await git.run({
    gitDir,
    command: { name: "merge-tree", flags, args: [ours, theirs] },
    env: options.env,
    signal: options.signal,
  });
  const output = decoder.decode(result.stdout);
  if (result.code === 1) {
    const conflict = parseConflicts(output, options.nameOnly ?? false);
    if (options.mergeBase === undefined) throw conflict;
    throw new MergeTreeConflictError(
      conflict.tree,
      conflict.conflictingFiles,
      conflict.messages.map((m) => ({ ...m, message: label(m.message) })),
    );
  }
  if (result.code !== 0) {
    if (result.stderr.trim() === "fatal: refusing to merge unrelated histories") {
      throw new MergeTreeUnrelatedHistoryError();
    }
    throw new Error(`merge-tree: exit status ${result.code}: ${result.stderr.trim()}`);
  }
  return { tree: output.split("\0")[0].trim() };
}

/** Writes the synthetic commits and returns them as the sides to merge. */
async function steerMergeBase(
  git: GitRunner,
  gitDir: string,
  options: MergeTreeOptions,
): Promise<{ ours: string; theirs: string }> {
  const env = { ...options.env, ...SYNTHETIC_ENV };
  const tree = async (rev: string, what: string) => {
    const result = await git.run({
      gitDir,
      command: {
        name: "rev-parse",
        flags: ["--verify", "--end-of-options"],
        args: [`${rev}^{tree}`],
      },
      env,
      signal: options.signal,
    });
    if (result.code !== 0) throw new Error(`merge-tree: invalid ${what} ${JSON.stringify(rev)}`);
    return decoder.decode(result.stdout).trim();
  };
  const commit = async (treeOid: string, parent?: string) => {
    const result = await git.run({
      gitDir,
      command: {
        name: "commit-tree",
        flags: [...parent ? [`-p${parent}`] : [], "-mmerge-base"],
        args: [treeOid],
      },
      env,
      signal: options.signal,
    });
    if (result.code !== 0) throw new Error(`commit-tree: ${result.stderr.trim()}`);
    return decoder.decode(result.stdout).trim();
  };
  const [baseTree, oursTree, theirsTree] = await Promise.all([
    tree(options.mergeBase!, "merge base"),
    tree(options.ours, "revision"),
    tree(options.theirs, "revision"),
  ]);
  const base = await commit(baseTree);
  const [ours, theirs] = await Promise.all([commit(oursTree, base), commit(theirsTree, base)]);
  return { ours, theirs };
}

/** Parses merge-tree's `-z` output of a conflicting merge. */
export function parseConflicts(output: string, nameOnly: boolean): MergeTreeConflictError {
  const split = output.indexOf("\0\0");
  if (split < 0) throw new Error(`couldn't parse merge tree output: ${output}`);
  const [tree, ...conflicts] = output.slice(0, split).split("\0");
  const files: ConflictingFile[] = conflicts.map((line) => {
    if (nameOnly) return { path: line, mode: 0, oid: "", stage: 0 };
    const tab = line.indexOf("\t");
    const info = tab < 0 ? [] : line.slice(0, tab).split(" ");
    if (info.length !== 3) throw new Error(`parsing conflicting file info: ${line}`);
    const stage = Number(info[2]);
    if (!(stage >= 1 && stage <= 3)) throw new Error(`invalid value for stage: ${info[2]}`);
    return { path: line.slice(tab + 1), mode: parseInt(info[0], 8), oid: info[1], stage };
  });
  const fields = output.slice(split + 2).split("\0");
  fields.pop(); // the output ends in NUL
  const messages: ConflictMessage[] = [];
  for (let i = 0; i < fields.length;) {
    const count = Number(fields[i]);
    if (!Number.isInteger(count) || i + count + 2 >= fields.length) {
      throw new Error(`incorrect number of fields: ${fields.join("\\0")}`);
    }
    messages.push({
      paths: fields.slice(i + 1, i + count + 1),
      type: fields[i + count + 1],
      message: fields[i + count + 2],
    });
    i += count + 3;
  }
  return new MergeTreeConflictError(tree, files, messages);
}
