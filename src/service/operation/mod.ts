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
import { userCherryPick } from "./user_cherry_pick.ts";
import { userCreateBranch } from "./user_create_branch.ts";
import { userCreateTag } from "./user_create_tag.ts";
import { userDeleteBranch } from "./user_delete_branch.ts";
import { userDeleteTag } from "./user_delete_tag.ts";
import { userFFBranch } from "./user_ff_branch.ts";
import { userMergeBranch } from "./user_merge_branch.ts";
import { userMergeToRef } from "./user_merge_to_ref.ts";
import { userRebaseConfirmable } from "./user_rebase_confirmable.ts";
import { userRebaseToRef } from "./user_rebase_to_ref.ts";
import { userRevert } from "./user_revert.ts";
import { userSquash } from "./user_squash.ts";
import { userUpdateBranch } from "./user_update_branch.ts";
import { userApplyPatch } from "./user_apply_patch.ts";
import { userCommitFiles } from "./user_commit_files.ts";
import { userUpdateSubmodule } from "./user_update_submodule.ts";

/** Builds the service's handlers. */
export function operationService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.OperationService", {
    UserApplyPatch: userApplyPatch(deps),
    UserCommitFiles: userCommitFiles(deps),
    UserCreateBranch: userCreateBranch(deps),
    UserUpdateBranch: userUpdateBranch(deps),
    UserDeleteBranch: userDeleteBranch(deps),
    UserCreateTag: userCreateTag(deps),
    UserDeleteTag: userDeleteTag(deps),
    UserMergeBranch: userMergeBranch(deps),
    UserMergeToRef: userMergeToRef(deps),
    UserFFBranch: userFFBranch(deps),
    UserRebaseToRef: userRebaseToRef(deps),
    UserCherryPick: userCherryPick(deps),
    UserRevert: userRevert(deps),
    UserSquash: userSquash(deps),
    UserRebaseConfirmable: userRebaseConfirmable(deps),
    UserUpdateSubmodule: userUpdateSubmodule(deps),
  });
}
