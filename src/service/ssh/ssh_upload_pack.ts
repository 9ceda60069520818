/**
 * `SSHUploadPack`: a `git fetch`/`git clone` over SSH, as a bidi stream.
 * The first request names the repository; later ones carry git's stdin.
 * Responses carry stdout/stderr chunks; a failure ends with an
 * `exit_status` message and then the error, exactly as Gitaly does (a
 * success ends without one, which clients read as 0).
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { firstRequest, hasBytes, requestBytes } from "../shared/git_stream.ts";
import { packObjectsHookSetup } from "../hooks/pack_objects_env.ts";
import { runUploadPack, uploadCommandError } from "../shared/upload_pack.ts";

/** Builds the handler. */
export function sshUploadPack(deps: ServiceDeps): Rpc<"gitaly.SSHService", "SSHUploadPack"> {
  return bidiStream(
    async (requests, ctx, send) => {
      const { first, rest } = await firstRequest(requests);
      const repoPath = await deps.locator.repoPath(first.repository);
      if (hasBytes(first.stdin)) throw invalidArgument("non-empty stdin in first request");
      const config = parseGitConfigOptions(first.git_config_options);
      ctx.logFields["git_protocol"] = first.git_protocol || "v0";

      const exit = await runUploadPack(deps.git, {
        repoPath,
        config,
        gitProtocol: first.git_protocol,
        stdin: requestBytes(rest, (r) => r.stdin),
        signal: ctx.signal,
        packObjectsHook: await packObjectsHookSetup(deps, first.repository, ctx, "ssh"),
      }, {
        stdout: (chunk) => send({ stdout: chunk }),
        stderr: (chunk) => send({ stderr: chunk }),
        stdoutLent: true,
      });
      ctx.logFields["response_bytes"] = exit.stdoutBytes;
      if (exit.code === 0) return;
      const { error, status } = uploadCommandError(exit, "running upload-pack: ");
      await send({ exit_status: { value: status } });
      throw error;
    },
  );
}
