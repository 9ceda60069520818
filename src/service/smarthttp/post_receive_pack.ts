/**
 * `PostReceivePack`: the body of Smart HTTP's `POST /git-receive-pack`.
 * The first request names the repository and the pusher; later ones carry
 * the request body, which streams into `git receive-pack --stateless-rpc`
 * while its output streams back. Custom hooks run as for SSH pushes.
 *
 * @module
 */
import { failedPrecondition, invalidArgument } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { describeExit, firstRequest, hasBytes, requestBytes } from "../shared/git_stream.ts";
import { concludePush, receivePackForRequest } from "../shared/receive_pack.ts";

/** Builds the handler. */
export function postReceivePack(
  deps: ServiceDeps,
): Rpc<"gitaly.SmartHTTPService", "PostReceivePack"> {
  return bidiStream(
    async (requests, ctx, send) => {
      const { first, rest } = await firstRequest(requests);
      if (!first.gl_id) throw invalidArgument("empty GlId");
      if (hasBytes(first.data)) throw invalidArgument("non-empty Data");
      const exit = await receivePackForRequest(deps, first, ctx, {
        protocol: "http",
        statelessRpc: true,
        stdin: requestBytes(rest, (r) => r.data),
      }, { stdout: (chunk) => send({ data: chunk }) });
      if (exit.code !== 0) {
        throw failedPrecondition(`waiting for receive-pack: ${describeExit(exit)}`);
      }
      await concludePush(deps, ctx);
    },
  );
}
