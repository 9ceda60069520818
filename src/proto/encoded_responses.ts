/**
 * Responses a handler encodes itself, gRPC prefix and all, several to one
 * write: for RPCs that stream thousands of small messages (a `CommitDiff`
 * of 5,000 files), where protobufjs's encoding and one grpc-js write (and
 * HTTP/2 DATA frame, and socket write) per message cost more than the
 * work itself. The client sees the same messages: gRPC's framing is a
 * plain sequence of length-prefixed messages in the stream's DATA, and how
 * they are cut into writes means nothing.
 *
 * A handler builds them with `ResponseFrames` (`encoded.ts`), fields in
 * field-number order and, as Go's encoder does, none holding its default
 * (empty, zero, false), and sends the {@link EncodedResponses} it gives,
 * which the response serializer passes through as already framed (see
 * `src/server/preframed.ts`).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { markFramed } from "./bulk_bytes.ts";

/** gRPC's message prefix: one flag byte (0, uncompressed) and a 4-byte big-endian length. */
const GRPC_PREFIX = 5;

/** Several encoded responses, each with gRPC's prefix, to send as one write. */
export class EncodedResponses {
  /** `frames`: the framed messages back to back; `count`: how many. */
  constructor(readonly frames: Buffer, readonly count: number) {
    markFramed(frames);
  }

  /** The message bodies (without their gRPC prefixes), as views. */
  messages(): Uint8Array[] {
    const frames = this.frames;
    const out: Uint8Array[] = [];
    for (let at = 0; at < frames.byteLength;) {
      const length = frames.readUInt32BE(at + 1);
      out.push(frames.subarray(at + GRPC_PREFIX, at + GRPC_PREFIX + length));
      at += GRPC_PREFIX + length;
    }
    return out;
  }
}
