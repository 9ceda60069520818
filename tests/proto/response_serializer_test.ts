import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import {
  BulkBufferPool,
  FRAME_HEADROOM,
  giveBackLent,
  isFramed,
  isLent,
} from "../../src/proto/bulk_bytes.ts";
import { preframedResponsesInstalled } from "../../src/proto/preframed.ts";

const uploadPack = grpcServiceDefinition("gitaly.SSHService").SSHUploadPack;

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("a bulk bytes response encodes as protobufjs would, from a reused buffer", () => {
  for (const length of [4096, 70_000, 128 * 1024, 300_000]) {
    const stdout = bytes(length, length);
    const fast = Uint8Array.from(uploadPack.responseSerialize({ stdout }));
    const decoded = uploadPack.responseDeserialize(Buffer.from(fast)) as { stdout: Uint8Array };
    assert.deepEqual(Uint8Array.from(decoded.stdout), stdout);
    // The general path (two fields set) must agree on the bytes field.
    const both = uploadPack.responseSerialize({ stdout, stderr: new Uint8Array([1]) });
    assert.deepEqual(Uint8Array.from(both.subarray(0, fast.length)), fast);
  }
});

Deno.test("small, mixed and non-bytes responses take the general path", () => {
  const small = { stdout: bytes(10, 1) };
  const status = { exit_status: { value: 3 } };
  for (const message of [small, status, { stderr: bytes(5000, 2), exit_status: { value: 1 } }]) {
    const decoded = uploadPack.responseDeserialize(uploadPack.responseSerialize(message));
    assert.ok(decoded);
  }
  const decoded = uploadPack.responseDeserialize(uploadPack.responseSerialize(status)) as {
    exit_status: { value: number };
  };
  assert.equal(decoded.exit_status.value, 3);
});

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
