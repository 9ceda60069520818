/**
 * `gitaly.CommitService`: commits, history, trees and blame.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { commitsByMessage } from "./commits_by_message.ts";
import { findAllCommits } from "./find_all_commits.ts";
import { findCommit } from "./find_commit.ts";
import { findCommits } from "./find_commits.ts";
import { getCommitSignatures } from "./get_commit_signatures.ts";
import { lastCommitForPath } from "./last_commit_for_path.ts";
import { listAllCommits } from "./list_all_commits.ts";
import { listCommits } from "./list_commits.ts";
import { listCommitsByOid } from "./list_commits_by_oid.ts";
import { listCommitsByRefName } from "./list_commits_by_ref_name.ts";
import { listLastCommitsForTree } from "./list_last_commits_for_tree.ts";

/** Builds the service's handlers. */
export function commitService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.CommitService", {
    FindCommit: findCommit(deps),
    ListCommits: listCommits(deps),
    ListAllCommits: listAllCommits(deps),
    FindAllCommits: findAllCommits(deps),
    FindCommits: findCommits(deps),
    CommitsByMessage: commitsByMessage(deps),
    ListCommitsByOid: listCommitsByOid(deps),
    ListCommitsByRefName: listCommitsByRefName(deps),
    GetCommitSignatures: getCommitSignatures(deps),
    LastCommitForPath: lastCommitForPath(deps),
    ListLastCommitsForTree: listLastCommitsForTree(deps),
  });
}
