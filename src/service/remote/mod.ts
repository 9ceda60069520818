/**
 * `gitaly.RemoteService`: questions about arbitrary remote repositories.
 * `UpdateRemoteMirror` is not implemented yet (answers `Unimplemented`).
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { findRemoteRepository } from "./find_remote_repository.ts";
import { findRemoteRootRef } from "./find_remote_root_ref.ts";

/** Builds the service's handlers. */
export function remoteService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.RemoteService", {
    FindRemoteRepository: findRemoteRepository(deps),
    FindRemoteRootRef: findRemoteRootRef(deps),
  });
}
