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
import { userFFBranch } from "./user_ff_branch.ts";
import { userMergeBranch } from "./user_merge_branch.ts";
import { userMergeToRef } from "./user_merge_to_ref.ts";
import { userRebaseToRef } from "./user_rebase_to_ref.ts";

/** Builds the service's handlers. */
export function operationService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.OperationService", {
    UserMergeBranch: userMergeBranch(deps),
    UserMergeToRef: userMergeToRef(deps),
    UserFFBranch: userFFBranch(deps),
    UserRebaseToRef: userRebaseToRef(deps),
  });
}
