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
import { userApplyPatch } from "./user_apply_patch.ts";
import { userCommitFiles } from "./user_commit_files.ts";
import { userCreateBranch } from "./user_create_branch.ts";
import { userUpdateSubmodule } from "./user_update_submodule.ts";

/** Builds the service's handlers. */
export function operationService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.OperationService", {
    UserApplyPatch: userApplyPatch(deps),
    UserCommitFiles: userCommitFiles(deps),
    UserCreateBranch: userCreateBranch(deps),
    UserUpdateSubmodule: userUpdateSubmodule(deps),
  });
}
