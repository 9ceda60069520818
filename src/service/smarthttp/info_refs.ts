/**
 * `InfoRefsUploadPack` and `InfoRefsReceivePack`: the body of Smart HTTP's
 * `GET /info/refs?service=git-…`: a `# service=git-…` pkt-line and a flush,
 * then git's own advertisement (protocol v2 capabilities when
 * `git_protocol` asks for them), streamed as it is produced.
 *
 * @module
 */
import { encodePktLine, flushPkt } from "../../git/pktline.ts";
import { internal } from "../../server/errors.ts";
import { type CallContext, serverStream } from "../../server/rpc.ts";
import type { InfoRefsRequest, InfoRefsResponse, Init } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { describeExit, type StreamedExit } from "../shared/git_stream.ts";
import { advertiseReceivePack } from "../shared/receive_pack.ts";
import { runUploadPack } from "../shared/upload_pack.ts";

type Send = (response: Init<InfoRefsResponse>) => Promise<void>;
type Advertise = (
  deps: ServiceDeps,
  options: AdvertiseOptions,
  send: Send,
) => Promise<StreamedExit>;

interface AdvertiseOptions {
  repoPath: string;
  gitProtocol: string;
  config: ReturnType<typeof parseGitConfigOptions>;
  signal: AbortSignal;
}

/** Builds the `InfoRefsUploadPack` handler. */
export function infoRefsUploadPack(deps: ServiceDeps) {
  return infoRefsHandler(
    deps,
    "upload-pack",
    (deps, options, send) =>
      runUploadPack(deps.git, { ...options, statelessRpc: true, advertiseRefs: true }, {
        stdout: (chunk) => send({ data: chunk }),
      }),
  );
}

/** Builds the `InfoRefsReceivePack` handler. */
export function infoRefsReceivePack(deps: ServiceDeps) {
  return infoRefsHandler(
    deps,
    "receive-pack",
    (deps, options, send) =>
      advertiseReceivePack(deps, options, { stdout: (chunk) => send({ data: chunk }) }),
  );
}

function infoRefsHandler(deps: ServiceDeps, service: string, advertise: Advertise) {
  return serverStream<InfoRefsRequest, Init<InfoRefsResponse>>(
    async (request: InfoRefsRequest, ctx: CallContext, send: Send) => {
      const repoPath = await deps.locator.repoPath(request.repository);
      const config = parseGitConfigOptions(request.git_config_options);
      await send({ data: serviceHeader(service) });
      const exit = await advertise(deps, {
        repoPath,
        gitProtocol: request.git_protocol,
        config,
        signal: ctx.signal,
      }, send);
      if (exit.code !== 0) throw internal(`wait: ${describeExit(exit)}`);
    },
  );
}

/** `# service=git-<service>\n` as a pkt-line, then a flush. */
function serviceHeader(service: string): Uint8Array {
  const line = encodePktLine(`# service=git-${service}\n`);
  const flush = flushPkt();
  const out = new Uint8Array(line.byteLength + flush.byteLength);
  out.set(line);
  out.set(flush, line.byteLength);
  return out;
}
