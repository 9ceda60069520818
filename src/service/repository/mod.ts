/**
 * `gitaly.RepositoryService`: the RPCs built so far; the rest answer
 * `Unimplemented` through the adapter.
 *
 * @module
 */
import { getArchive } from "./get_archive.ts";
import { applyGitattributes } from "./apply_gitattributes.ts";
import { createBundle } from "./create_bundle.ts";
import { createBundleFromRefList } from "./create_bundle_from_ref_list.ts";
import { createRepositoryFromBundle } from "./create_repository_from_bundle.ts";
import { createRepositoryFromSnapshot } from "./create_repository_from_snapshot.ts";
import { fetchBundle } from "./fetch_bundle.ts";
import { pruneUnreachableObjects } from "./prune_unreachable_objects.ts";
import { removeAll } from "./remove_all.ts";
import { restoreCustomHooks } from "./restore_custom_hooks.ts";
import { setCustomHooks } from "./set_custom_hooks.ts";
import { calculateChecksum } from "./calculate_checksum.ts";
import { fsck } from "./fsck.ts";
import { fullPath } from "./full_path.ts";
import { getFileAttributes } from "./get_file_attributes.ts";
import { objectsSize } from "./objects_size.ts";
import { optimizeRepository } from "./optimize_repository.ts";
import { setFullPath } from "./set_full_path.ts";
import { findLicense } from "./find_license.ts";
import { findMergeBase } from "./find_merge_base.ts";
import { getRawChanges } from "./get_raw_changes.ts";
import { searchFilesByContent } from "./search_files_by_content.ts";
import { searchFilesByName } from "./search_files_by_name.ts";
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { backupCustomHooks } from "./backup_custom_hooks.ts";
import { backupRepository } from "./backup_repository.ts";
import { restoreRepository } from "./restore_repository.ts";
import { createFork } from "./create_fork.ts";
import { createRepository } from "./create_repository.ts";
import { createRepositoryFromURL } from "./create_repository_from_url.ts";
import { fetchRemote } from "./fetch_remote.ts";
import { fetchSourceBranch } from "./fetch_source_branch.ts";
import { getConfig } from "./get_config.ts";
import { getCustomHooks } from "./get_custom_hooks.ts";
import { getInfoAttributes } from "./get_info_attributes.ts";
import { getObjectDirectorySize } from "./get_object_directory_size.ts";
import { getSnapshot } from "./get_snapshot.ts";
import { hasLocalBranches } from "./has_local_branches.ts";
import { objectFormat } from "./object_format.ts";
import { removeRepository } from "./remove_repository.ts";
import { replicateRepository } from "./replicate_repository.ts";
import { repositoryExists } from "./repository_exists.ts";
import { repositoryInfo } from "./repository_info.ts";
import { repositorySize } from "./repository_size.ts";
import { writeRef } from "./write_ref.ts";

/** Builds the service's handlers. */
export function repositoryService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.RepositoryService", {
    RepositoryExists: repositoryExists(deps),
    CreateRepository: createRepository(deps),
    RemoveRepository: removeRepository(deps),
    RepositorySize: repositorySize(deps),
    RepositoryInfo: repositoryInfo(deps),
    ObjectFormat: objectFormat(deps),
    HasLocalBranches: hasLocalBranches(deps),
    WriteRef: writeRef(deps),
    BackupRepository: backupRepository(deps),
    RestoreRepository: restoreRepository(deps),
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
    BackupCustomHooks: backupCustomHooks(deps),
    // Read-only searches.
    FindLicense: findLicense(deps),
    FindMergeBase: findMergeBase(deps),
    GetRawChanges: getRawChanges(deps),
    SearchFilesByContent: searchFilesByContent(deps),
    SearchFilesByName: searchFilesByName(deps),
    CalculateChecksum: calculateChecksum(deps),
    ObjectsSize: objectsSize(deps),
    Fsck: fsck(deps),
    OptimizeRepository: optimizeRepository(deps),
    FullPath: fullPath(deps),
    SetFullPath: setFullPath(deps),
    GetFileAttributes: getFileAttributes(deps),
    GetArchive: getArchive(deps),
    // Custom hooks, bundles, snapshots and maintenance.
    SetCustomHooks: setCustomHooks(deps),
    RestoreCustomHooks: restoreCustomHooks(deps),
    CreateBundle: createBundle(deps),
    CreateBundleFromRefList: createBundleFromRefList(deps),
    FetchBundle: fetchBundle(deps),
    CreateRepositoryFromBundle: createRepositoryFromBundle(deps),
    CreateRepositoryFromSnapshot: createRepositoryFromSnapshot(deps),
    ApplyGitattributes: applyGitattributes(deps),
    PruneUnreachableObjects: pruneUnreachableObjects(deps),
    RemoveAll: removeAll(deps),
  });
}
