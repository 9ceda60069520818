/**
 * `gitaly.RemoteService`: questions about arbitrary remote repositories, and
 * pushing a repository to its mirrors.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { findRemoteRepository } from "./find_remote_repository.ts";
import { findRemoteRootRef } from "./find_remote_root_ref.ts";
import { updateRemoteMirror } from "./update_remote_mirror.ts";

/** Builds the service's handlers. */
export function remoteService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.RemoteService", {
    FindRemoteRepository: findRemoteRepository(deps),
    FindRemoteRootRef: findRemoteRootRef(deps),
    UpdateRemoteMirror: updateRemoteMirror(deps),
  });
}
