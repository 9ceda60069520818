/**
 * Sidechannels: a raw byte stream beside a unary RPC, opened by the server
 * as a new Yamux stream over the caller's backchannel and matched to the
 * call by the id the client sent in the call's metadata.
 *
 * - Server: {@link openSidechannel} (from a handler: the call's
 *   `backchannel` peer and metadata) gives a {@link ServerSidechannel}:
 *   the unframed request, raw response writes, close.
 * - Client: a {@link SidechannelRegistry} hands out waiters whose
 *   `metadata` goes with the RPC; plug `registry.handlers` into
 *   `BackchannelCredentials`. The callback gets a {@link ClientSidechannel}
 *   (framed writes, `closeWrite`, raw reads); `waiter.close()` returns its
 *   result once the RPC is over.
 * - Helpers: side-band framing for `SSHUploadPackWithSidechannel`
 *   ({@link SidebandWriter}, {@link demultiplexSideband}) and the client's
 *   interactive proxy ({@link proxyPktLine}).
 *
 * @module
 */
export { ClientSidechannel } from "./client_conn.ts";
export { CallbackDidNotRunError, DeadlineError, SidechannelError } from "./errors.ts";
export {
  decodeSidechannelId,
  encodeSidechannelId,
  parseSidechannelId,
  SIDECHANNEL_MAGIC,
  SIDECHANNEL_METADATA_KEY,
  SIDECHANNEL_TIMEOUT_MS,
  type SidechannelId,
} from "./protocol.ts";
export { proxyPktLine } from "./proxy.ts";
export { type SidechannelCallback, SidechannelRegistry, SidechannelWaiter } from "./registry.ts";
export { openSidechannel, type OpenSidechannelOptions, ServerSidechannel } from "./server.ts";
export {
  BAND_STDERR,
  BAND_STDOUT,
  demultiplexSideband,
  type SidebandSinks,
  SidebandWriter,
} from "./sideband.ts";
