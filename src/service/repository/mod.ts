/**
 * `gitaly.RepositoryService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import type { ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { createRepository } from "./create.ts";
import { repositoryExists } from "./exists.ts";
import { hasLocalBranches, objectFormat, writeRef } from "./refs.ts";
import { removeRepository } from "./remove.ts";
import { getObjectDirectorySize, repositoryInfo, repositorySize } from "./size.ts";

/** Builds the service's handlers. */
export function repositoryService(deps: ServiceDeps): ServiceImplementation {
  return {
    service: "gitaly.RepositoryService",
    handlers: {
      RepositoryExists: repositoryExists(deps),
      CreateRepository: createRepository(deps),
      RemoveRepository: removeRepository(deps),
      RepositorySize: repositorySize(deps),
      RepositoryInfo: repositoryInfo(deps),
      ObjectFormat: objectFormat(deps),
      HasLocalBranches: hasLocalBranches(deps),
      WriteRef: writeRef(deps),
      GetObjectDirectorySize: getObjectDirectorySize(deps),
    },
  };
}
