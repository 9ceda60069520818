/**
 * `gitaly.RepositoryService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import type { ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { createRepository } from "./create.ts";
import { createFork } from "./create_fork.ts";
import { createRepositoryFromURL } from "./create_from_url.ts";
import { getCustomHooks } from "./custom_hooks.ts";
import { repositoryExists } from "./exists.ts";
import { fetchRemote } from "./fetch_remote.ts";
import { fetchSourceBranch } from "./fetch_source_branch.ts";
import { hasLocalBranches, objectFormat, writeRef } from "./refs.ts";
import { removeRepository } from "./remove.ts";
import { replicateRepository } from "./replicate.ts";
import { getConfig, getInfoAttributes } from "./repo_files.ts";
import { getObjectDirectorySize, repositoryInfo, repositorySize } from "./size.ts";
import { getSnapshot } from "./snapshot.ts";

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
      // Server-to-server: copying and fetching between repositories.
      ReplicateRepository: replicateRepository(deps),
      CreateFork: createFork(deps),
      FetchSourceBranch: fetchSourceBranch(deps),
      CreateRepositoryFromURL: createRepositoryFromURL(deps),
      FetchRemote: fetchRemote(deps),
      GetSnapshot: getSnapshot(deps),
      GetConfig: getConfig(deps),
      GetInfoAttributes: getInfoAttributes(deps),
      GetCustomHooks: getCustomHooks(deps),
      BackupCustomHooks: getCustomHooks(deps),
    },
  };
}
