/**
 * `gitaly.DiffService`: diffs between commits and trees.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { commitDelta } from "./commit_delta.ts";
import { commitDiff } from "./commit_diff.ts";
import { diffStats } from "./diff_stats.ts";
import { findChangedPaths } from "./find_changed_paths.ts";
import { getPatchID } from "./get_patch_id.ts";
import { rawDiff } from "./raw_diff.ts";
import { rawPatch } from "./raw_patch.ts";

/** Builds the service's handlers. */
export function diffService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.DiffService", {
    CommitDiff: commitDiff(deps),
    CommitDelta: commitDelta(deps),
    RawDiff: rawDiff(deps),
    RawPatch: rawPatch(deps),
    DiffStats: diffStats(deps),
    FindChangedPaths: findChangedPaths(deps),
    GetPatchID: getPatchID(deps),
  });
}
