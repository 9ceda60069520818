/**
 * `gitaly.CommitService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { checkObjectsExist } from "./check_objects_exist.ts";
import { commitIsAncestor } from "./commit_is_ancestor.ts";
import { commitLanguages } from "./commit_languages.ts";
import { commitStats } from "./commit_stats.ts";
import { countCommits } from "./count_commits.ts";
import { countDivergingCommits } from "./count_diverging_commits.ts";
import { filterShasWithSignatures } from "./filter_shas_with_signatures.ts";
import { getCommitMessages } from "./get_commit_messages.ts";
import { getTreeEntries } from "./get_tree_entries.ts";
import { listFiles } from "./list_files.ts";
import { rawBlame } from "./raw_blame.ts";
import { treeEntry } from "./tree_entry.ts";

/** Builds the service's handlers. */
export function commitService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.CommitService", {
    CheckObjectsExist: checkObjectsExist(deps),
    CommitIsAncestor: commitIsAncestor(deps),
    CommitLanguages: commitLanguages(deps),
    CommitStats: commitStats(deps),
    CountCommits: countCommits(deps),
    CountDivergingCommits: countDivergingCommits(deps),
    FilterShasWithSignatures: filterShasWithSignatures(deps),
    GetCommitMessages: getCommitMessages(deps),
    GetTreeEntries: getTreeEntries(deps),
    ListFiles: listFiles(deps),
    RawBlame: rawBlame(deps),
    TreeEntry: treeEntry(deps),
  });
}
