/**
 * `PostUploadPackWithSidechannel`: the body of Smart HTTP's
 * `POST /git-upload-pack`. The unary call names the repository; the
 * sidechannel carries the request body (pkt-line framed, ended by a flush
 * packet) into `git upload-pack --stateless-rpc` and brings its stdout
 * back raw. The response holds the packfile negotiation statistics.
 *
 * Errors follow Gitaly: an unopenable sidechannel is `Internal` ("open
 * sidechannel: …"); git failing is `FailedPrecondition` ("running
 * upload-pack: waiting for upload-pack: exit status 128"), except that a
 * shallow request (`deepen…`) may end non-zero and still succeed.
 *
 * @module
 */
import { Code, GrpcError } from "../../server/errors.ts";
import { type CallContext, type Rpc, unary } from "../../server/rpc.ts";
import type { PostUploadPackWithSidechannelRequest } from "../../proto/types.ts";
import type { ServerSidechannel } from "../../sidechannel/server.ts";
import type { ServiceDeps } from "../deps.ts";
import { closeCallSidechannel, openCallSidechannel } from "../shared/call_sidechannel.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { describeExit, type StreamedExit } from "../shared/git_stream.ts";
import {
  emptyNegotiationStats,
  NegotiationParser,
  type NegotiationStats,
  observeNegotiation,
} from "../shared/packfile_negotiation.ts";
import { packObjectsHookSetup } from "../hooks/pack_objects_env.ts";
import { runUploadPack, SIDECHANNEL_READ_SIZE } from "../shared/upload_pack.ts";

/** Builds the handler. */
export function postUploadPackWithSidechannel(
  deps: ServiceDeps,
): Rpc<"gitaly.SmartHTTPService", "PostUploadPackWithSidechannel"> {
  return unary(
    async (request, ctx) => {
      const repoPath = await deps.locator.repoPath(request.repository);
      const config = parseGitConfigOptions(request.git_config_options);
      ctx.logFields["git_protocol"] = request.git_protocol || "v0";
      const conn = await openCallSidechannel(ctx, Code.INTERNAL, "open sidechannel: ");
      try {
        const stats = await serveUploadPack(deps, { repoPath, config, request }, ctx, conn);
        await closeCallSidechannel(conn, "close sidechannel connection: ");
        return { packfile_negotiation_statistics: stats };
      } finally {
        conn.reset(); // no-op after a clean close
      }
    },
  );
}

interface Prepared {
  repoPath: string;
  config: ReturnType<typeof parseGitConfigOptions>;
  request: PostUploadPackWithSidechannelRequest;
}

/** Runs stateless upload-pack between the sidechannel's request and response. */
async function serveUploadPack(
  deps: ServiceDeps,
  { repoPath, config, request }: Prepared,
  ctx: CallContext,
  conn: ServerSidechannel,
): Promise<NegotiationStats> {
  const parser = new NegotiationParser();
  let exit: StreamedExit;
  try {
    exit = await runUploadPack(deps.git, {
      repoPath,
      config,
      gitProtocol: request.git_protocol,
      statelessRpc: true,
      stdin: observeNegotiation(conn.request, parser),
      signal: ctx.signal,
      packObjectsHook: await packObjectsHookSetup(deps, request.repository, ctx, "http"),
    }, { stdout: (chunk) => conn.write(chunk), stdoutViews: SIDECHANNEL_READ_SIZE });
    parser.finish();
  } catch (error) {
    if (error instanceof GrpcError || ctx.signal.aborted) throw error;
    throw failed(`copying stdout from upload-pack: ${(error as Error).message}`);
  }
  ctx.logFields["response_bytes"] = exit.stdoutBytes;
  // Gitaly reports empty statistics when the request did not parse.
  const stats = parser.error ? emptyNegotiationStats() : parser.stats;
  if (exit.code !== 0 && stats.deepen === "") {
    throw failed(`waiting for upload-pack: ${describeExit(exit)}`);
  }
  return stats;
}

function failed(message: string): GrpcError {
  return new GrpcError(Code.FAILED_PRECONDITION, `running upload-pack: ${message}`);
}
