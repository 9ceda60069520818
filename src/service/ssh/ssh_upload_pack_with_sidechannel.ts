/**
 * `SSHUploadPackWithSidechannel`: `SSHUploadPack` with the git protocol
 * carried over a sidechannel instead of gRPC messages. The unary call
 * names the repository; the sidechannel carries git's stdin (pkt-line
 * framed, ended by a flush packet) and returns stdout and stderr as
 * side-band-64k packets (bands 1 and 2). The response holds the packfile
 * negotiation statistics of the request.
 *
 * Errors follow Gitaly: a sidechannel that cannot be opened is `Aborted`
 * ("opennig sidechannel: …", Gitaly's spelling), git failing is `Internal`
 * (or `Canceled` when the client hung up).
 *
 * @module
 */
import { Code, GrpcError } from "../../server/errors.ts";
import { type CallContext, type Rpc, unary } from "../../server/rpc.ts";
import type { SSHUploadPackWithSidechannelRequest } from "../../proto/types.ts";
import type { ServerSidechannel } from "../../sidechannel/server.ts";
import { BAND_STDERR, BAND_STDOUT, SidebandWriter } from "../../sidechannel/sideband.ts";
import type { ServiceDeps } from "../deps.ts";
import { closeCallSidechannel, openCallSidechannel } from "../shared/call_sidechannel.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { NegotiationParser, observeNegotiation } from "../shared/packfile_negotiation.ts";
import { packObjectsHookSetup } from "../hooks/pack_objects_env.ts";
import { runUploadPack, SIDECHANNEL_READ_SIZE, uploadCommandError } from "../shared/upload_pack.ts";

/** Builds the handler. */
export function sshUploadPackWithSidechannel(
  deps: ServiceDeps,
): Rpc<"gitaly.SSHService", "SSHUploadPackWithSidechannel"> {
  return unary(
    async (request, ctx) => {
      // Gitaly's spelling.
      const conn = await openCallSidechannel(ctx, Code.ABORTED, "opennig sidechannel: ");
      try {
        const parser = await serveUploadPack(deps, request, ctx, conn);
        await closeCallSidechannel(conn, "close sidechannel: ");
        return { packfile_negotiation_statistics: parser.stats };
      } finally {
        conn.reset(); // no-op after a clean close
      }
    },
  );
}

/** Runs upload-pack with the sidechannel as its stdio; resolves with the request's statistics. */
async function serveUploadPack(
  deps: ServiceDeps,
  request: SSHUploadPackWithSidechannelRequest,
  ctx: CallContext,
  conn: ServerSidechannel,
): Promise<NegotiationParser> {
  const repoPath = await deps.locator.repoPath(request.repository);
  const config = parseGitConfigOptions(request.git_config_options);
  ctx.logFields["git_protocol"] = request.git_protocol || "v0";
  const parser = new NegotiationParser();
  const sideband = new SidebandWriter((chunk) => conn.write(chunk));
  let exit;
  try {
    exit = await runUploadPack(deps.git, {
      repoPath,
      config,
      gitProtocol: request.git_protocol,
      stdin: observeNegotiation(conn.request, parser),
      signal: ctx.signal,
      packObjectsHook: await packObjectsHookSetup(deps, request.repository, ctx, "ssh"),
    }, {
      stdout: sideband.band(BAND_STDOUT),
      stderr: sideband.band(BAND_STDERR),
      stdoutViews: SIDECHANNEL_READ_SIZE,
    });
    parser.finish();
  } catch (error) {
    if (error instanceof GrpcError || ctx.signal.aborted) throw error;
    throw new GrpcError(Code.INTERNAL, `running upload-pack: ${(error as Error).message}`);
  }
  ctx.logFields["response_bytes"] = exit.stdoutBytes;
  if (exit.code !== 0) throw uploadCommandError(exit, "running upload-pack: ").error;
  return parser;
}
