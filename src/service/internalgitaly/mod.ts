/**
 * `gitaly.InternalGitaly`: what Praefect asks of a node's storages.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { walkRepos } from "./walk_repos.ts";

/** Builds the service's handlers. */
export function internalGitalyService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.InternalGitaly", {
    WalkRepos: walkRepos(deps),
  });
}
