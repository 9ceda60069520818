/**
 * A response encoded ahead of time: a message whose only field is a
 * repeated message field (a batch of commits) built by concatenating
 * items that were each encoded once, when they were sized for batching,
 * with gRPC's 5-byte message prefix in front, as {@link EncodedResponses}
 * of one message. The response serializer hands the frame to grpc-js as it
 * is (see `src/server/preframed.ts`): no message instance, no second
 * encoding, no copy into a frame buffer.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { varintSize, writeVarint } from "./bulk_bytes.ts";
import { EncodedResponses } from "./encoded_responses.ts";

/** gRPC's message prefix: flag byte and 4-byte big-endian length. */
const GRPC_PREFIX = 5;

/**
 * The message whose field `fieldId` (a repeated message field, wire type
 * 2) holds `items`, each an encoded message, in order.
 */
export function repeatedField(fieldId: number, items: readonly Uint8Array[]): EncodedResponses {
  const tag = (fieldId << 3) | 2;
  const tagSize = varintSize(tag);
  let length = 0;
  for (const item of items) length += tagSize + varintSize(item.byteLength) + item.byteLength;
  const frame = Buffer.allocUnsafe(GRPC_PREFIX + length);
  frame[0] = 0;
  frame.writeUInt32BE(length, 1);
  let at = GRPC_PREFIX;
  for (const item of items) {
    at = writeVarint(frame, writeVarint(frame, at, tag), item.byteLength);
    frame.set(item, at);
    at += item.byteLength;
  }
  return new EncodedResponses(frame, 1);
}
