/**
 * `CommitDiff`: the patch of every file changed between two commits, one
 * message per file (patches over 5 KiB continue in further messages), with
 * GitLab's limits, as Gitaly answers it.
 *
 * @module
 */
import type { GitCommand } from "../../git/command.ts";
import { readObjectFormat } from "../../git/objectid.ts";
import {
  CommitDiffRequest_DiffMode,
  CommitDiffRequest_WhitespaceChanges,
} from "../../proto/types.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { eachDiff, validateLeftRight } from "./each_diff.ts";

/** Patches larger than this are split over several messages. */
export const MSG_SIZE_THRESHOLD = 5 * 1024;

/** Builds the handler. */
export function commitDiff(deps: ServiceDeps): Rpc<"gitaly.DiffService", "CommitDiff"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await validateLeftRight(deps, req);
    const hash = await readObjectFormat(repoPath);
    const flags = [
      "--patch",
      "--raw",
      `--abbrev=${hash.hexLength}`,
      "--full-index",
      "--find-renames=30%",
    ];
    if (
      req.whitespace_changes === CommitDiffRequest_WhitespaceChanges.WHITESPACE_CHANGES_IGNORE_ALL
    ) {
      flags.push("--ignore-all-space");
    } else if (
      req.whitespace_changes === CommitDiffRequest_WhitespaceChanges.WHITESPACE_CHANGES_IGNORE
    ) {
      flags.push("--ignore-space-change");
    }
    if (req.diff_mode === CommitDiffRequest_DiffMode.WORDDIFF) flags.push("--word-diff=porcelain");
    const command: GitCommand = {
      name: "diff",
      flags,
      args: [req.left_commit_id, req.right_commit_id],
    };
    if (req.paths.length > 0) command.postSepArgs = req.paths.map(text);
    const limits = {
      enforceLimits: req.enforce_limits,
      maxFiles: req.enforce_limits ? req.max_files : 0,
      maxLines: req.enforce_limits ? req.max_lines : 0,
      maxBytes: req.enforce_limits ? req.max_bytes : 0,
      maxPatchBytes: req.enforce_limits ? req.max_patch_bytes : 0,
      maxPatchBytesForFileExtension: req.enforce_limits
        ? req.max_patch_bytes_for_file_extension
        : {},
      collapseDiffs: req.collapse_diffs,
      collectAllPaths: req.collect_all_paths,
      safeMaxFiles: req.safe_max_files,
      safeMaxLines: req.safe_max_lines,
      safeMaxBytes: req.safe_max_bytes,
    };
    await eachDiff(deps, repoPath, command, limits, ctx.signal, async (diff) => {
      const header = {
        from_path: diff.fromPath,
        to_path: diff.toPath,
        from_id: diff.fromId,
        to_id: diff.toId,
        old_mode: diff.oldMode,
        new_mode: diff.newMode,
        binary: diff.binary,
        overflow_marker: diff.overflowMarker,
        collapsed: diff.collapsed,
        too_large: diff.tooLarge,
      };
      const patch = diff.patch;
      if (patch.byteLength <= MSG_SIZE_THRESHOLD) {
        await send({ ...header, raw_patch_data: patch, end_of_patch: true });
        return;
      }
      for (let offset = 0; offset < patch.byteLength; offset += MSG_SIZE_THRESHOLD) {
        const end = Math.min(offset + MSG_SIZE_THRESHOLD, patch.byteLength);
        const piece = {
          raw_patch_data: patch.subarray(offset, end),
          end_of_patch: end === patch.byteLength,
        };
        await send(offset === 0 ? { ...header, ...piece } : piece);
      }
    });
  });
}
