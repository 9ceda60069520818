import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";

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
