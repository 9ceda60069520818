import assert from "node:assert/strict";
import { isFramed } from "../../src/proto/bulk_bytes.ts";
import { EncodedResponses } from "../../src/proto/encoded_responses.ts";
import { ResponseFrames } from "../../src/proto/encoded.ts";
import { grpcServiceDefinition, messageType } from "../../src/proto/mod.ts";
import type { CommitDiffResponse } from "../../src/proto/types.ts";

const type = messageType("gitaly.CommitDiffResponse");

type Diff = Omit<CommitDiffResponse, "overflow_marker" | "collapsed">;

/** The fields by number, in order, with the writer method each takes. */
const FIELDS: [keyof Diff, number, "bytes" | "string" | "int32" | "bool"][] = [
  ["from_path", 1, "bytes"],
  ["to_path", 2, "bytes"],
  ["from_id", 3, "string"],
  ["to_id", 4, "string"],
  ["old_mode", 5, "int32"],
  ["new_mode", 6, "int32"],
  ["binary", 7, "bool"],
  ["raw_patch_data", 9, "bytes"],
  ["end_of_patch", 10, "bool"],
  ["too_large", 13, "bool"],
];

function write(frames: ResponseFrames, d: Diff): void {
  const writer = frames.begin();
  for (const [name, field, kind] of FIELDS) {
    (writer[kind] as (field: number, value: unknown) => void).call(writer, field, d[name]);
  }
  frames.end();
}

const plain = (message: unknown) =>
  type.toObject(message as never, { defaults: true, bytes: Array });

Deno.test("ResponseFrames: messages decode as protobufjs encodes them, defaults left out", () => {
  const text = new TextEncoder();
  const diffs: Diff[] = [
    {
      from_path: text.encode("a.txt"),
      to_path: text.encode("b/é.txt"),
      from_id: "1".repeat(40),
      to_id: "f".repeat(64),
      old_mode: 0o100644,
      new_mode: -5, // ten-byte varint
      binary: true,
      raw_patch_data: new Uint8Array(70_000).fill(0x2b), // grows the buffer
      end_of_patch: true,
      too_large: false,
    },
    {
      from_path: new Uint8Array(0),
      to_path: new Uint8Array(0),
      from_id: "",
      // 50 UTF-16 units: the length's bound (150) takes two bytes, the length (60) one.
      to_id: "é".repeat(10) + "x".repeat(40),
      old_mode: 0,
      new_mode: -2147483648,
      binary: false,
      raw_patch_data: new Uint8Array(0),
      end_of_patch: false,
      too_large: true,
    },
  ];
  const frames = new ResponseFrames();
  for (const d of diffs) write(frames, d);
  assert.equal(frames.count, 2);
  const encoded = frames.take();
  assert.equal(encoded.count, 2);
  assert.equal(frames.count, 0);
  assert.equal(frames.size, 0);
  const messages = [...encoded.messages()];
  assert.equal(messages.length, 2);
  for (let i = 0; i < diffs.length; i++) {
    assert.deepEqual(plain(type.decode(messages[i])), plain(type.fromObject(diffs[i])));
  }
  // The second message is all defaults but two fields: to_id, new_mode and too_large only.
  const second = type.decode(messages[1]) as unknown as Record<string, unknown>;
  assert.deepEqual(Object.keys(second).sort(), ["new_mode", "to_id", "too_large"]);
});

Deno.test("EncodedResponses pass the response serializer as they are, already framed", () => {
  const frames = new ResponseFrames();
  frames.begin().bool(10, true);
  frames.end();
  const encoded = frames.take();
  assert.ok(encoded instanceof EncodedResponses);
  const serialize = grpcServiceDefinition("gitaly.DiffService").CommitDiff.responseSerialize;
  const serialized = serialize(encoded);
  assert.equal(serialized, encoded.frames);
  assert.ok(isFramed(serialized));
  assert.deepEqual([...serialized], [0, 0, 0, 0, 2, 0x50, 1]);
});
