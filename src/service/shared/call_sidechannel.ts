/**
 * Opening and closing the calling client's sidechannel from a handler,
 * with failures turned into the gRPC errors Gitaly returns for them.
 *
 * @module
 */
import { Code, GrpcError } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import { SidechannelError } from "../../sidechannel/errors.ts";
import { openSidechannel, type ServerSidechannel } from "../../sidechannel/server.ts";

/**
 * Opens the sidechannel the call's metadata names, over the caller's own
 * connection. A failure is a `code` error whose message is `prefix` plus
 * the sidechannel's reason (e.g. `Internal: open sidechannel: sidechannel:
 * receive confirmation: EOF`).
 */
export async function openCallSidechannel(
  ctx: CallContext,
  code: Code,
  prefix: string,
): Promise<ServerSidechannel> {
  try {
    return await openSidechannel(ctx.backchannel, ctx.metadata, { signal: ctx.signal });
  } catch (error) {
    if (!(error instanceof SidechannelError)) throw error;
    throw new GrpcError(code, `${prefix}${error.message}`);
  }
}

/** Closes the sidechannel after a successful response; a failure is `Internal` with `prefix`. */
export async function closeCallSidechannel(conn: ServerSidechannel, prefix: string): Promise<void> {
  try {
    await conn.close();
  } catch (error) {
    throw new GrpcError(Code.INTERNAL, `${prefix}${(error as Error).message}`);
  }
}
