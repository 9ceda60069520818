/**
 * `gitaly.ConflictsService`: the conflicts of a merge, listed and resolved.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { listConflictFiles } from "./list_conflict_files.ts";
import { resolveConflicts } from "./resolve_conflicts.ts";

/** Builds the service's handlers. */
export function conflictsService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.ConflictsService", {
    ListConflictFiles: listConflictFiles(deps),
    ResolveConflicts: resolveConflicts(deps),
  });
}
