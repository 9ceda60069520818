/**
 * `SSHUploadArchive`: the server side of `git archive --remote`, as a bidi
 * stream. Unlike upload-pack it ends with an `exit_status` message on
 * success too (0), as Gitaly does.
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest, hasBytes, requestBytes } from "../shared/git_stream.ts";
import { CLIENT_HUNG_UP, runUploadArchive, uploadCommandError } from "../shared/upload_pack.ts";

/** Builds the handler. */
export function sshUploadArchive(deps: ServiceDeps): Rpc<"gitaly.SSHService", "SSHUploadArchive"> {
  return bidiStream(
    async (requests, ctx, send) => {
      const { first, rest } = await firstRequest(requests);
      const repoPath = await deps.locator.repoPath(first.repository);
      if (hasBytes(first.stdin)) throw invalidArgument("non-empty stdin in first request");

      const exit = await runUploadArchive(deps.git, {
        repoPath,
        stdin: requestBytes(rest, (r) => r.stdin),
        signal: ctx.signal,
      }, {
        stdout: (chunk) => send({ stdout: chunk }),
        stderr: (chunk) => send({ stderr: chunk }),
        stdoutLent: true,
      });
      if (exit.code === 0) {
        await send({ exit_status: { value: 0 } });
        return;
      }
      // A client that hung up gets no status (Gitaly cannot attribute one to git).
      if (exit.stderr === CLIENT_HUNG_UP) {
        throw uploadCommandError(exit, "running upload-archive: ").error;
      }
      const { error, status } = uploadCommandError(exit, "send: ");
      await send({ exit_status: { value: status } });
      throw error;
    },
  );
}
