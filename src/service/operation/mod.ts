/**
 * `gitaly.OperationService`: changes made as a user (branches, tags,
 * commits, merges), each through the hooks and GitLab's checks like a push
 * (see `update_with_hooks.ts`), with new objects written to a quarantine
 * first (`quarantine.ts`). Methods without a handler answer Unimplemented.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { userCreateBranch } from "./user_create_branch.ts";
import { userCreateTag } from "./user_create_tag.ts";
import { userDeleteBranch } from "./user_delete_branch.ts";
import { userDeleteTag } from "./user_delete_tag.ts";
import { userFFBranch } from "./user_ff_branch.ts";
import { userMergeBranch } from "./user_merge_branch.ts";
import { userMergeToRef } from "./user_merge_to_ref.ts";
import { userRebaseToRef } from "./user_rebase_to_ref.ts";
import { userUpdateBranch } from "./user_update_branch.ts";

/** Builds the service's handlers. */
export function operationService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.OperationService", {
    UserCreateBranch: userCreateBranch(deps),
    UserUpdateBranch: userUpdateBranch(deps),
    UserDeleteBranch: userDeleteBranch(deps),
    UserCreateTag: userCreateTag(deps),
    UserDeleteTag: userDeleteTag(deps),
    UserMergeBranch: userMergeBranch(deps),
    UserMergeToRef: userMergeToRef(deps),
    UserFFBranch: userFFBranch(deps),
    UserRebaseToRef: userRebaseToRef(deps),
  });
}
