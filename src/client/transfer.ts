/**
 * Git transfers through Gitaly's SSH service, as Go's `client.UploadPack`,
 * `UploadPackWithSidechannel`, `ReceivePack` and `UploadArchive` do them:
 * the caller supplies git's standard streams (see `io.ts`) and gets the
 * remote command's exit code. These are what a `GIT_SSH_COMMAND` program
 * needs to let a local git talk to a repository on a Gitaly server.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type {
  Init,
  SSHReceivePackRequest,
  SSHUploadArchiveRequest,
  SSHUploadPackRequest,
  SSHUploadPackWithSidechannelRequest,
} from "../proto/types.ts";
import type { SidechannelRegistry } from "../sidechannel/registry.ts";
import { toGrpcMetadata } from "./metadata.ts";
import { toStreamIO, type TransferIO } from "./io.ts";
import { sshUploadPackWithSidechannel, type UploadPackResult } from "./sidechannel.ts";
import { runSshCommand, type SshCommand } from "./ssh.ts";

/** Exit code and negotiation statistics of a sidechannel upload-pack. */
export type { UploadPackResult };

/** Per-transfer options. */
export interface TransferOptions {
  /** Extra headers for the call (feature flags, correlation id, …). */
  metadata?: Record<string, string>;
  /** Aborting cancels the call; the transfer then rejects with `Cancelled`. */
  signal?: AbortSignal;
}

/**
 * Runs `git upload-pack` on the server (`SSHUploadPack`): a fetch or
 * clone. `request` names the repository (and protocol, config options);
 * its `stdin` must be empty. Resolves to the exit code; rejects with the
 * call's error.
 */
export function uploadPack(
  conn: grpc.Client,
  request: Init<SSHUploadPackRequest>,
  io: TransferIO,
  options: TransferOptions = {},
): Promise<number> {
  return sshTransfer(conn, "upload-pack", request, io, options);
}

/** Runs `git receive-pack` on the server (`SSHReceivePack`): a push. See {@link uploadPack}. */
export function receivePack(
  conn: grpc.Client,
  request: Init<SSHReceivePackRequest>,
  io: TransferIO,
  options: TransferOptions = {},
): Promise<number> {
  return sshTransfer(conn, "receive-pack", request, io, options);
}

/** Runs `git upload-archive` on the server (`SSHUploadArchive`): `git archive --remote`. */
export function uploadArchive(
  conn: grpc.Client,
  request: Init<SSHUploadArchiveRequest>,
  io: TransferIO,
  options: TransferOptions = {},
): Promise<number> {
  return sshTransfer(conn, "upload-archive", request, io, options);
}

/**
 * A fetch over a sidechannel (`SSHUploadPackWithSidechannel`): git's
 * request and response travel on a stream the server opens back to us.
 * `conn` must come from `dialSidechannel` with this `registry`. Resolves
 * to the exit code once both the call and the sidechannel are done.
 */
export async function uploadPackWithSidechannel(
  conn: grpc.Client,
  registry: SidechannelRegistry,
  request: Init<SSHUploadPackWithSidechannelRequest>,
  io: TransferIO,
  options: TransferOptions = {},
): Promise<number> {
  return (await uploadPackWithSidechannelWithResult(conn, registry, request, io, options))
    .exitCode;
}

/** {@link uploadPackWithSidechannel}, also returning the server's packfile negotiation statistics. */
export async function uploadPackWithSidechannelWithResult(
  conn: grpc.Client,
  registry: SidechannelRegistry,
  request: Init<SSHUploadPackWithSidechannelRequest>,
  io: TransferIO,
  options: TransferOptions = {},
): Promise<UploadPackResult> {
  options.signal?.throwIfAborted();
  const streams = toStreamIO(io);
  try {
    return await sshUploadPackWithSidechannel(
      cancellable(conn, options.signal),
      registry,
      request as Record<string, unknown>,
      streams.io,
      toGrpcMetadata(options.metadata ?? {}),
    );
  } finally {
    streams.release();
  }
}

async function sshTransfer(
  conn: grpc.Client,
  command: SshCommand,
  request: Record<string, unknown>,
  io: TransferIO,
  options: TransferOptions,
): Promise<number> {
  options.signal?.throwIfAborted();
  const streams = toStreamIO(io);
  try {
    return await runSshCommand(
      cancellable(conn, options.signal),
      command,
      request,
      streams.io,
      toGrpcMetadata(options.metadata ?? {}),
    );
  } finally {
    streams.release();
  }
}

/**
 * `conn`, except that calls started through it are cancelled when `signal`
 * aborts. The SSH-style call helpers take no signal themselves; this
 * catches the call object as they create it.
 */
function cancellable(conn: grpc.Client, signal: AbortSignal | undefined): grpc.Client {
  if (!signal) return conn;
  const starters = new Set<PropertyKey>(["makeUnaryRequest", "makeBidiStreamRequest"]);
  return new Proxy(conn, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (!starters.has(property)) return value.bind(target);
      return (...args: unknown[]) => {
        const call = value.apply(target, args) as grpc.Call;
        const cancel = () => call.cancel();
        signal.addEventListener("abort", cancel, { once: true });
        call.once("status", () => signal.removeEventListener("abort", cancel));
        return call;
      };
    },
  });
}
