/**
 * What `InfoRefsUploadPack` and `InfoRefsReceivePack` share: the body of
 * Smart HTTP's `GET /info/refs?service=git-…` is a `# service=git-…`
 * pkt-line and a flush, then git's own advertisement (protocol v2
 * capabilities when `git_protocol` asks for them), streamed as it is
 * produced.
 *
 * @module
 */
import { encodePktLine, flushPkt } from "../../git/pktline.ts";
import { internal } from "../../server/errors.ts";
import { type Send, serverStream, type ServerStreamHandler } from "../../server/rpc.ts";
import type { InfoRefsRequest, InfoRefsResponse, Init } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { describeExit, type StreamedExit } from "../shared/git_stream.ts";

/** Runs git's advertisement for one service, sending its stdout as `data` messages. */
export type Advertise = (
  deps: ServiceDeps,
  options: AdvertiseOptions,
  send: Send<Init<InfoRefsResponse>>,
) => Promise<StreamedExit>;

/** What an {@link Advertise} function gets from the request. */
export interface AdvertiseOptions {
  repoPath: string;
  gitProtocol: string;
  config: ReturnType<typeof parseGitConfigOptions>;
  signal: AbortSignal;
}

/**
 * The handler of an info/refs RPC for `service` (`upload-pack` or
 * `receive-pack`): the service header, then what `advertise` streams.
 */
export function infoRefsHandler(
  deps: ServiceDeps,
  service: string,
  advertise: Advertise,
): ServerStreamHandler<InfoRefsRequest, Init<InfoRefsResponse>> {
  return serverStream(async (request, ctx, send) => {
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
  });
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
