/**
 * The `pack-objects` hook of the `hooks` subcommand: git's
 * `uploadpack.packObjectsHook` runs it as `… git [--shallow-file ""]
 * pack-objects <flags>` instead of pack-objects itself. It listens on a
 * Unix socket `<runtime dir>/chan.d/<random>/sidechannel`, calls the
 * server's `PackObjectsHookWithSidechannel` naming that socket in the
 * `gitaly-sidechannel-socket` metadata, and, once the server connects,
 * sends its standard input (what upload-pack wants packed), half-closes
 * and splits the side-band answer back into stdout and stderr for git.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import { codec } from "../client/messages.ts";
import type { StreamIO } from "../client/ssh.ts";
import {
  type HooksPayload,
  SIDECHANNEL_SOCKET_HEADER,
  SIDECHANNEL_SOCKET_NAME,
} from "../service/hooks/payload.ts";
import { demultiplexSidebandReader } from "../sidechannel/sideband.ts";

const METHOD = "/gitaly.HookService/PackObjectsHookWithSidechannel";
const NAMES = ["PackObjectsHookWithSidechannelRequest", "PackObjectsHookWithSidechannelResponse"];

/**
 * Runs one pack-objects through the server; `args` are git's (starting
 * with `git`). Resolves to 0, or rejects with the server's error.
 */
export async function packObjectsHook(
  client: grpc.Client,
  args: string[],
  payload: HooksPayload,
  env: Record<string, string>,
  io: StreamIO,
): Promise<number> {
  if (args[0] !== "git") {
    throw new Error(`pack-objects hook: expected git's command line, got ${JSON.stringify(args)}`);
  }
  const chanDir = join(payload.runtimeDir, "chan.d");
  await Deno.mkdir(chanDir, { mode: 0o700 }).catch((error) => {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  });
  const socketDir = await Deno.makeTempDir({ dir: chanDir });
  const address = join(socketDir, SIDECHANNEL_SOCKET_NAME);
  const listener = Deno.listen({ transport: "unix", path: address });
  try {
    const served = (async () => {
      const conn = await listener.accept();
      listener.close();
      await Deno.remove(socketDir, { recursive: true }).catch(() => {});
      try {
        const input = io.stdin.pipeTo(conn.writable, { preventClose: true })
          .then(() => conn.closeWrite());
        await Promise.all([input, demultiplexSidebandReader((buffer) => conn.read(buffer), io)]);
      } finally {
        try {
          conn.close();
        } catch {
          // The readable side closed it.
        }
      }
    })();
    served.catch(() => {}); // awaited below, after the call's own error
    const metadata = new grpc.Metadata();
    metadata.set(SIDECHANNEL_SOCKET_HEADER, address);
    const request = codec(NAMES[0], NAMES);
    const response = codec(NAMES[1], NAMES);
    await new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(
        METHOD,
        request.serialize,
        response.deserialize,
        {
          repository: payload.repository,
          args: args.slice(1),
          gl_id: payload.userDetails?.userid ?? "",
          gl_username: payload.userDetails?.username ?? "",
          git_protocol: env.GIT_PROTOCOL ?? "",
          remote_ip: payload.userDetails?.remoteIp ?? "",
        },
        metadata,
        (error) => error ? reject(error) : resolve(),
      );
    });
    await served;
    return 0;
  } finally {
    try {
      listener.close();
    } catch {
      // Closed after the server connected.
    }
    await Deno.remove(socketDir, { recursive: true }).catch(() => {});
  }
}
