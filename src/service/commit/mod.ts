/**
 * `gitaly.CommitService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import { commitsByMessage } from "./commits_by_message.ts";
import { findAllCommits } from "./find_all_commits.ts";
import { findCommits } from "./find_commits.ts";
import { getCommitSignatures } from "./get_commit_signatures.ts";
import { listAllCommits } from "./list_all_commits.ts";
import { listCommits } from "./list_commits.ts";
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { checkObjectsExist } from "./check_objects_exist.ts";
import { commitIsAncestor } from "./commit_is_ancestor.ts";
import { commitLanguages } from "./commit_languages.ts";
import { commitStats } from "./commit_stats.ts";
import { countCommits } from "./count_commits.ts";
import { countDivergingCommits } from "./count_diverging_commits.ts";
import { filterShasWithSignatures } from "./filter_shas_with_signatures.ts";
import { findCommit } from "./find_commit.ts";
import { getCommitMessages } from "./get_commit_messages.ts";
import { getTreeEntries } from "./get_tree_entries.ts";
import { lastCommitForPath } from "./last_commit_for_path.ts";
import { listCommitsByOid } from "./list_commits_by_oid.ts";
import { listCommitsByRefName } from "./list_commits_by_ref_name.ts";
import { listFiles } from "./list_files.ts";
import { listLastCommitsForTree } from "./list_last_commits_for_tree.ts";
import { rawBlame } from "./raw_blame.ts";
import { treeEntry } from "./tree_entry.ts";

/** Builds the service's handlers. */
export function commitService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.CommitService", {
    CheckObjectsExist: checkObjectsExist(deps),
    CommitsByMessage: commitsByMessage(deps),
    FindAllCommits: findAllCommits(deps),
    FindCommits: findCommits(deps),
    GetCommitSignatures: getCommitSignatures(deps),
    ListAllCommits: listAllCommits(deps),
    ListCommits: listCommits(deps),
    CommitIsAncestor: commitIsAncestor(deps),
    CommitLanguages: commitLanguages(deps),
    CommitStats: commitStats(deps),
    CountCommits: countCommits(deps),
    CountDivergingCommits: countDivergingCommits(deps),
    FindCommit: findCommit(deps),
    FilterShasWithSignatures: filterShasWithSignatures(deps),
    GetCommitMessages: getCommitMessages(deps),
    GetTreeEntries: getTreeEntries(deps),
    LastCommitForPath: lastCommitForPath(deps),
    ListCommitsByOid: listCommitsByOid(deps),
    ListCommitsByRefName: listCommitsByRefName(deps),
    ListFiles: listFiles(deps),
    ListLastCommitsForTree: listLastCommitsForTree(deps),
    RawBlame: rawBlame(deps),
    TreeEntry: treeEntry(deps),
  });
}
