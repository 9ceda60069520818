/**
 * `gitaly.ObjectPoolService`: object pools shared by forks.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { createObjectPool } from "./create_object_pool.ts";
import { deleteObjectPool } from "./delete_object_pool.ts";
import { disconnectGitAlternates } from "./disconnect_git_alternates.ts";
import { fetchIntoObjectPool } from "./fetch_into_object_pool.ts";
import { getObjectPool } from "./get_object_pool.ts";
import { linkRepositoryToObjectPool } from "./link_repository_to_object_pool.ts";

/** Builds the service's handlers. */
export function objectPoolService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.ObjectPoolService", {
    CreateObjectPool: createObjectPool(deps),
    DeleteObjectPool: deleteObjectPool(deps),
    LinkRepositoryToObjectPool: linkRepositoryToObjectPool(deps),
    DisconnectGitAlternates: disconnectGitAlternates(deps),
    FetchIntoObjectPool: fetchIntoObjectPool(deps),
    GetObjectPool: getObjectPool(deps),
  });
}
