/**
 * `gitaly.RefService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { findAllBranches } from "./find_all_branches.ts";
import { findAllRemoteBranches } from "./find_all_remote_branches.ts";
import { findAllTags } from "./find_all_tags.ts";
import { findBranch } from "./find_branch.ts";
import { findDefaultBranchName } from "./find_default_branch_name.ts";
import { findLocalBranches } from "./find_local_branches.ts";
import { findRefsByOid } from "./find_refs_by_oid.ts";
import { findTag } from "./find_tag.ts";
import { listRefs } from "./list_refs.ts";
import { refExists } from "./ref_exists.ts";

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
  });
}
