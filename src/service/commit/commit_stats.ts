/**
 * `CommitStats`: lines added and deleted by a commit against its first
 * parent (or the empty tree for a root commit), summed from `git diff
 * --numstat`; binary files count nothing.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { readCommit } from "../shared/commits.ts";
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

const EMPTY_TREE: Record<number, string> = {
  40: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
  64: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
};

/** Builds the handler. */
export function commitStats(deps: ServiceDeps): Rpc<"gitaly.CommitService", "CommitStats"> {
  return unary(async (req, ctx) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    const commit = await readCommit(deps, gitDir, revision, ctx.signal);
    if (!commit) throw internal("object not found");
    const hasParent = commit.parent_ids.length > 0;
    const { stdout } = await deps.git.runOk({
      gitDir,
      command: {
        name: "diff",
        flags: ["--numstat"],
        args: hasParent ? [`${commit.id}^`, commit.id] : [EMPTY_TREE[commit.id.length], commit.id],
      },
      signal: ctx.signal,
    });
    let additions = 0;
    let deletions = 0;
    for (const line of new TextDecoder().decode(stdout).split("\n")) {
      if (line === "") continue;
      const [added, deleted] = line.split("\t", 3);
      if (added === "-" && deleted === "-") continue; // binary
      additions += Number(added);
      deletions += Number(deleted);
    }
    return { oid: commit.id, additions, deletions };
  });
}
