/**
 * Streams a git command's output as `data` messages for RawDiff and
 * RawPatch.
 *
 * @module
 */
import type { GitCommand } from "../../git/command.ts";
import { Code, GrpcError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit, runStreamed } from "../shared/git_stream.ts";

/** Runs `command`, sending its stdout in chunks; a failed git is `Internal`, as in Gitaly. */
export async function streamRawOutput(
  deps: ServiceDeps,
  repoPath: string,
  command: GitCommand,
  signal: AbortSignal,
  send: (data: Uint8Array) => Promise<void>,
): Promise<void> {
  const exit = await runStreamed(deps.git, { gitDir: repoPath, command, signal }, {
    stdout: send,
  });
  if (exit.code !== 0) {
    throw new GrpcError(Code.INTERNAL, describeExit(exit), {
      fields: { "git.stderr": exit.stderr },
    });
  }
}
