/**
 * `SSHReceivePack`: a `git push` over SSH, as a bidi stream. The first
 * request names the repository and the pusher (`gl_id` is required); later
 * ones carry git's stdin. Custom hooks run and may reject the push; their
 * output reaches the client through git's sideband.
 *
 * @module
 */
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit, firstRequest, hasBytes, requestBytes } from "../shared/git_stream.ts";
import { concludePush, receivePackForRequest } from "../shared/receive_pack.ts";
import { CLIENT_HUNG_UP } from "../shared/upload_pack.ts";

/** Builds the handler. */
export function sshReceivePack(deps: ServiceDeps): Rpc<"gitaly.SSHService", "SSHReceivePack"> {
  return bidiStream(
    async (requests, ctx, send) => {
      const { first, rest } = await firstRequest(requests);
      if (!first.gl_id) throw invalidArgument("empty GlId");
      if (hasBytes(first.stdin)) throw invalidArgument("non-empty data in first request");
      const exit = await receivePackForRequest(deps, first, ctx, {
        protocol: "ssh",
        stdin: requestBytes(rest, (r) => r.stdin),
      }, {
        stdout: (chunk) => send({ stdout: chunk }),
        stderr: (chunk) => send({ stderr: chunk }),
      });
      if (exit.code === 0) return await concludePush(deps, ctx);
      await send({ exit_status: { value: exit.code } });
      if (exit.stderr === CLIENT_HUNG_UP) {
        throw new GrpcError(Code.CANCELLED, "user canceled the push");
      }
      throw new GrpcError(Code.INTERNAL, `cmd wait: ${describeExit(exit)}`);
    },
  );
}
