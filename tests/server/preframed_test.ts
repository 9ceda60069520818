import assert from "node:assert/strict";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import {
  BulkBufferPool,
  FRAME_HEADROOM,
  giveBackLent,
  isFramed,
  isLent,
} from "../../src/proto/bulk_bytes.ts";
import { preframedResponsesInstalled } from "../../src/server/preframed.ts";

const uploadPack = grpcServiceDefinition("gitaly.SSHService").SSHUploadPack;

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("a lent view is framed in place, gRPC prefix included, and grpc-js sends it as it is", () => {
  assert.ok(preframedResponsesInstalled(), "grpc-js's serializeMessage moved: see preframed.ts");
  const pool = new BulkBufferPool(200_000);
  for (const length of [1, 127, 128, 16_384, 200_000]) {
    const whole = pool.take();
    const data = bytes(length, length);
    whole.set(data, FRAME_HEADROOM);
    const stdout = pool.lend(whole, length);
    const frame = uploadPack.responseSerialize({ stdout });
    assert.ok(isFramed(frame));
    assert.equal(frame.buffer, whole.buffer, "framed in place, not copied");
    assert.equal(frame[0], 0);
    assert.equal(frame.readUInt32BE(1), frame.byteLength - 5);
    const decoded = uploadPack.responseDeserialize(frame.subarray(5)) as { stdout: Uint8Array };
    assert.deepEqual(Uint8Array.from(decoded.stdout), data);
    // Not lent, the same bytes take the ordinary path (no prefix).
    assert.ok(!isFramed(uploadPack.responseSerialize({ stdout: data })));
    giveBackLent({ stdout });
    assert.ok(!isLent(stdout));
    assert.equal(pool.take(), whole, "given back for reuse");
  }
});
