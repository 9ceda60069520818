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
import { ResponseFrames } from "../../proto/encoded.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { eachDiff, validateLeftRight } from "./each_diff.ts";

/** Patches larger than this are split over several messages. */
export const MSG_SIZE_THRESHOLD = 5 * 1024;

/** Encoded responses are sent once this many bytes are waiting (or git makes us wait). */
const BATCH_BYTES = 32 * 1024;

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
    // Thousands of small messages: encoded by hand, sent several to a write.
    const frames = new ResponseFrames();
    const flush = () => frames.flush(send);
    await eachDiff(deps, repoPath, command, limits, ctx.signal, (diff) => {
      const patch = diff.patch;
      let offset = 0;
      do {
        const end = Math.min(offset + MSG_SIZE_THRESHOLD, patch.byteLength);
        const writer = frames.begin();
        if (offset === 0) {
          writer.bytes(1, diff.fromPath);
          writer.bytes(2, diff.toPath);
          writer.bytes(3, diff.fromIdBytes); // string fields; the ids are ASCII
          writer.bytes(4, diff.toIdBytes);
          writer.int32(5, diff.oldMode);
          writer.int32(6, diff.newMode);
          writer.bool(7, diff.binary);
        }
        writer.bytes(9, patch.subarray(offset, end));
        writer.bool(10, end === patch.byteLength);
        if (offset === 0) {
          writer.bool(11, diff.overflowMarker);
          writer.bool(12, diff.collapsed);
          writer.bool(13, diff.tooLarge);
        }
        frames.end();
        offset = end;
      } while (offset < patch.byteLength);
      return frames.size >= BATCH_BYTES ? flush() : Promise.resolve();
    }, flush);
  });
}
