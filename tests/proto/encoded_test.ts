import assert from "node:assert/strict";
import {
  bytesFieldSize,
  type EncodedResponses,
  encodedSize,
  encodeMessage,
  fieldSize,
  ProtoWriter,
  ResponseFrames,
  withResponseFrames,
} from "../../src/proto/encoded.ts";
import { grpcServiceDefinition, messageType } from "../../src/proto/mod.ts";
import { isFramed } from "../../src/proto/bulk_bytes.ts";

const text = (value: string) => new TextEncoder().encode(value);
const listRefs = grpcServiceDefinition("gitaly.RefService").ListRefs;
const RESPONSE = messageType("gitaly.ListRefsResponse");

/** One ListRefsResponse written by hand. */
function writeReferences(frames: ResponseFrames, refs: [string, string, string][]): void {
  const w = frames.begin();
  for (const [name, target, peeled] of refs) {
    const [n, t, p] = [text(name), text(target), text(peeled)];
    w.header(1, bytesFieldSize(1, n) + bytesFieldSize(2, t) + bytesFieldSize(3, p));
    w.bytes(1, n);
    w.ascii(2, target);
    w.bytesOf(3, p, 0, p.length);
  }
  frames.end();
}

function decode(bytes: Uint8Array): unknown {
  return RESPONSE.toObject(RESPONSE.decode(bytes), { defaults: false, bytes: String });
}

Deno.test("messages written by hand decode as protobufjs encodes them, Go's way (no defaults)", () => {
  const refs: [string, string, string][] = [
    ["refs/heads/main", "a".repeat(40), ""],
    ["refs/tags/v1", "b".repeat(40), "c".repeat(40)],
    ["refs/heads/" + "x".repeat(300), "d".repeat(40), ""], // a name longer than the loop copies
  ];
  const frames = new ResponseFrames();
  writeReferences(frames, refs);
  writeReferences(frames, refs.slice(0, 1));
  assert.equal(frames.count, 2);
  const batch = frames.take();
  assert.equal(batch.count, 2);
  assert.ok(isFramed(batch.frames), "sent as it is");
  const messages = batch.messages();
  assert.equal(messages.length, 2);
  const objects = refs.map(([name, target, peeled_target]) => ({
    name: text(name),
    target,
    ...(peeled_target ? { peeled_target } : {}),
  }));
  const expected = encodeMessage(RESPONSE, { references: objects });
  assert.deepEqual(Uint8Array.from(messages[0]), Uint8Array.from(expected));
  assert.deepEqual(
    decode(messages[1]),
    decode(encodeMessage(RESPONSE, { references: objects.slice(0, 1) })),
  );
  assert.equal(encodedSize(RESPONSE, { references: objects }), expected.length);
  // The gRPC prefix: flag 0 and the big-endian length.
  assert.equal(batch.frames[0], 0);
  assert.equal(batch.frames.readUInt32BE(1), messages[0].length);
  assert.equal(frames.count, 0, "take starts over");
});

Deno.test("the response serializer passes encoded responses on as they are", () => {
  const frames = new ResponseFrames();
  writeReferences(frames, [["refs/heads/main", "a".repeat(40), ""]]);
  const batch = frames.take();
  assert.equal(listRefs.responseSerialize(batch), batch.frames);
});

Deno.test("ProtoWriter: varints, skipped defaults, copies independent of the buffer", () => {
  const w = new ProtoWriter(4);
  w.uint(5, 0);
  w.bytes(1, new Uint8Array(0));
  w.ascii(2, "");
  assert.equal(w.length, 0, "defaults are left out");
  w.uint(5, 300);
  const first = w.copy();
  assert.deepEqual([...first], [0x28, 0xac, 0x02]);
  w.uint(5, 2 ** 40);
  assert.deepEqual([...first], [0x28, 0xac, 0x02], "a copy is not a view");
  const tag = encodeMessage(messageType("gitaly.Tag"), { message_size: 2 ** 40 });
  assert.deepEqual(Uint8Array.from(w.copy()), Uint8Array.from(tag));
  assert.equal(fieldSize(1, 200), 1 + 2 + 200);
});

Deno.test("flush drops a message begun and not ended; withResponseFrames sends what was completed before an error", async () => {
  const sent: EncodedResponses[] = [];
  const send = (responses: EncodedResponses) => {
    sent.push(responses);
    return Promise.resolve();
  };
  await assert.rejects(
    withResponseFrames(send, (frames) => {
      writeReferences(frames, [["refs/heads/a", "a".repeat(40), ""]]);
      frames.begin().bytes(1, text("half"));
      return Promise.reject(new Error("boom"));
    }),
    /boom/,
  );
  assert.equal(sent.length, 1);
  assert.equal(sent[0].count, 1);
  assert.deepEqual(sent[0].messages().map(decode), [{
    references: [{ name: btoa("refs/heads/a"), target: "a".repeat(40) }],
  }]);
  await withResponseFrames(send, () => Promise.resolve());
  assert.equal(sent.length, 1, "nothing to send, nothing sent");
});
