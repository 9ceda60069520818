/**
 * `gitaly.RefService`: reading and writing references, all 16 RPCs.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { deleteRefs } from "./delete_refs.ts";
import { findAllBranches } from "./find_all_branches.ts";
import { findAllRemoteBranches } from "./find_all_remote_branches.ts";
import { findAllTags } from "./find_all_tags.ts";
import { findBranch } from "./find_branch.ts";
import { findDefaultBranchName } from "./find_default_branch_name.ts";
import { findLocalBranches } from "./find_local_branches.ts";
import { findRefsByOid } from "./find_refs_by_oid.ts";
import { findTag } from "./find_tag.ts";
import { getTagMessages } from "./get_tag_messages.ts";
import { getTagSignatures } from "./get_tag_signatures.ts";
import { listBranchNamesContainingCommit } from "./list_branch_names_containing_commit.ts";
import { listRefs } from "./list_refs.ts";
import { listTagNamesContainingCommit } from "./list_tag_names_containing_commit.ts";
import { refExists } from "./ref_exists.ts";
import { updateReferences } from "./update_references.ts";

/** Builds the service's handlers. */
export function refService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.RefService", {
    FindDefaultBranchName: findDefaultBranchName(deps),
    FindLocalBranches: findLocalBranches(deps),
    FindAllBranches: findAllBranches(deps),
    FindAllRemoteBranches: findAllRemoteBranches(deps),
    RefExists: refExists(deps),
    FindBranch: findBranch(deps),
    ListRefs: listRefs(deps),
    FindRefsByOID: findRefsByOid(deps),
    FindTag: findTag(deps),
    FindAllTags: findAllTags(deps),
    UpdateReferences: updateReferences(deps),
    DeleteRefs: deleteRefs(deps),
    ListBranchNamesContainingCommit: listBranchNamesContainingCommit(deps),
    ListTagNamesContainingCommit: listTagNamesContainingCommit(deps),
    GetTagSignatures: getTagSignatures(deps),
    GetTagMessages: getTagMessages(deps),
  });
}
