/**
 * `gitaly.RefService`: reading and writing references.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { deleteRefs } from "./delete_refs.ts";
import { getTagMessages } from "./get_tag_messages.ts";
import { getTagSignatures } from "./get_tag_signatures.ts";
import { listBranchNamesContainingCommit } from "./list_branch_names_containing_commit.ts";
import { listTagNamesContainingCommit } from "./list_tag_names_containing_commit.ts";
import { updateReferences } from "./update_references.ts";

/** Builds the service's handlers. */
export function refService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.RefService", {
    UpdateReferences: updateReferences(deps),
    DeleteRefs: deleteRefs(deps),
    ListBranchNamesContainingCommit: listBranchNamesContainingCommit(deps),
    ListTagNamesContainingCommit: listTagNamesContainingCommit(deps),
    GetTagSignatures: getTagSignatures(deps),
    GetTagMessages: getTagMessages(deps),
  });
}
