/**
 * Teaches grpc-js's server to send pre-framed responses: a serializer
 * result made by `frameInPlace` (see `src/proto/bulk_bytes.ts`) already carries
 * gRPC's 5-byte message prefix and is written as it is. grpc-js (1.14)
 * otherwise allocates a buffer of the message's size plus 5 for every
 * response and copies the message into it; for 128 KiB chunks of a pack
 * that allocation (and the garbage it leaves) costs more than the socket
 * writes. Any other response is framed exactly as grpc-js frames it
 * (responses are never compressed).
 *
 * grpc-js has no public hook for this: the method replaced is the
 * server call's own `serializeMessage`. It is installed once, when this
 * module loads (the adapter imports it, so every server binding our
 * handlers has it; the client never loads it), and {@link preframedResponsesInstalled} lets a test notice
 * a grpc-js upgrade that moved it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import { isFramed } from "../proto/bulk_bytes.ts";

interface SerializingCall {
  handler: { serialize(value: unknown): Buffer };
}

type SerializeMessage = (this: SerializingCall, value: unknown) => Buffer;

const prototype = BaseServerInterceptingCall.prototype as unknown as {
  serializeMessage?: SerializeMessage;
};
const original = prototype.serializeMessage;

/** grpc-js's framing: flag byte 0, 4-byte big-endian length, the message. */
function serializeMessage(this: SerializingCall, value: unknown): Buffer {
  const serialized = this.handler.serialize(value);
  if (isFramed(serialized)) return serialized;
  const output = Buffer.allocUnsafe(serialized.byteLength + 5);
  output[0] = 0;
  output.writeUInt32BE(serialized.byteLength, 1);
  output.set(serialized, 5);
  return output;
}

if (typeof original === "function") prototype.serializeMessage = serializeMessage;

/** Whether grpc-js's server calls frame responses through {@link serializeMessage}. */
export function preframedResponsesInstalled(): boolean {
  return prototype.serializeMessage === serializeMessage;
}
