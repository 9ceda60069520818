/**
 * The fixed facts of the sidechannel handshake: the
 * magic, the metadata key, the id encoding, the confirmation and the time
 * allowed for it, and the request framing limit.
 *
 * @module
 */

/** The magic a server writes first on a sidechannel stream. */
export const SIDECHANNEL_MAGIC: Uint8Array = new TextEncoder().encode("sidechannel");

/** The magic as a string (the dispatcher's key). */
export const SIDECHANNEL_MAGIC_TEXT = "sidechannel";

/** Request metadata that names the caller's sidechannel (decimal id). */
export const SIDECHANNEL_METADATA_KEY = "gitaly-sidechannel-id";

/** The client's confirmation that it accepted the stream. */
export const SIDECHANNEL_OK: Uint8Array = new TextEncoder().encode("ok");

/** Bytes of the id after the magic (big-endian signed 64-bit). */
export const SIDECHANNEL_ID_LENGTH = 8;

/** How long the handshake may take from either side. */
export const SIDECHANNEL_TIMEOUT_MS = 5_000;

/** Largest payload of one request packet (the length header counts 4 more bytes). */
export const MAX_REQUEST_CHUNK = 65520 - 4;

/** Sidechannel ids: signed 64-bit, as Gitaly's Go code uses. */
export type SidechannelId = bigint;

/** The 8 wire bytes of `id`. */
export function encodeSidechannelId(id: SidechannelId): Uint8Array {
  const bytes = new Uint8Array(SIDECHANNEL_ID_LENGTH);
  new DataView(bytes.buffer).setBigInt64(0, id);
  return bytes;
}

/** The id in 8 wire bytes. */
export function decodeSidechannelId(bytes: Uint8Array): SidechannelId {
  return new DataView(bytes.buffer, bytes.byteOffset, SIDECHANNEL_ID_LENGTH).getBigInt64(0);
}

/**
 * The id a metadata value names, read the way Gitaly reads it (Go's
 * `ParseInt` with its error ignored): base 10, anything unparsable is 0 and
 * values out of range saturate.
 */
export function parseSidechannelId(value: string): SidechannelId {
  if (!/^[+-]?[0-9]+$/.test(value)) return 0n;
  const id = BigInt(value);
  if (id > INT64_MAX) return INT64_MAX;
  if (id < INT64_MIN) return INT64_MIN;
  return id;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
