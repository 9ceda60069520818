import assert from "node:assert/strict";
import { Flag, FrameType, HEADER_SIZE, YamuxProtocolError } from "../../src/yamux/const.ts";
import {
  decodeHeader,
  encodeFrame,
  encodeHeader,
  type FrameHeader,
  FrameParser,
} from "../../src/yamux/frame.ts";
import { concat, seededRandom } from "./helpers.ts";

/** A frame as the parser reports it, payload pieces joined. */
interface ParsedFrame {
  header: FrameHeader;
  payload: Uint8Array;
}

function collect(): { parser: FrameParser; frames: ParsedFrame[] } {
  const frames: ParsedFrame[] = [];
  let pieces: Uint8Array[] = [];
  const parser = new FrameParser({
    onHeader: () => {
      pieces = [];
    },
    onPayload: (_header, bytes) => pieces.push(bytes.slice()),
    onFrameEnd: (header) => frames.push({ header, payload: concat(pieces) }),
  });
  return { parser, frames };
}

Deno.test("header encodes big-endian fields at their offsets", () => {
  const bytes = encodeHeader(FrameType.WindowUpdate, Flag.SYN | Flag.FIN, 0x01020304, 0xfffffffe);
  assert.deepEqual(
    [...bytes],
    [0, 1, 0, 5, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe],
  );
});

Deno.test("header round-trips every type, flag combination and extreme value", () => {
  const values = [0, 1, 2, 255, 256, 65535, 0x7fffffff, 0x80000000, 0xffffffff];
  for (let type = 0; type <= FrameType.GoAway; type++) {
    for (let flags = 0; flags < 16; flags++) {
      for (const streamId of values) {
        for (const length of values) {
          const target = new Uint8Array(HEADER_SIZE + 3);
          encodeHeader(type, flags, streamId, length, target, 3);
          assert.deepEqual(decodeHeader(target, 3), { version: 0, type, flags, streamId, length });
        }
      }
    }
  }
});

Deno.test("high flag bits survive the round trip", () => {
  const header = decodeHeader(encodeHeader(FrameType.Data, 0xfff0, 7, 0));
  assert.equal(header.flags, 0xfff0);
});

Deno.test("parser handles every split of a frame sequence", () => {
  const payload = Uint8Array.from({ length: 40 }, (_, i) => i);
  const wire = concat([
    encodeFrame({ type: FrameType.Data, flags: Flag.SYN, streamId: 1 }, payload),
    encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.ACK, streamId: 1, length: 1234 }),
    encodeFrame({ type: FrameType.Data, flags: 0, streamId: 3 }, new Uint8Array(0)),
    encodeFrame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: 99 }),
    encodeFrame({ type: FrameType.Data, flags: Flag.FIN, streamId: 1 }, payload.subarray(5, 7)),
    encodeFrame({ type: FrameType.GoAway, flags: 0, streamId: 0, length: 2 }),
  ]);
  const expected = collect();
  expected.parser.push(wire);
  expected.parser.end();
  assert.equal(expected.frames.length, 6);
  assert.deepEqual(expected.frames[0].payload, payload);
  assert.equal(expected.frames[1].header.length, 1234);
  assert.deepEqual(expected.frames[4].payload, payload.subarray(5, 7));

  for (let first = 0; first <= wire.length; first++) {
    for (let second = first; second <= wire.length; second += 7) {
      const { parser, frames } = collect();
      parser.push(wire.subarray(0, first));
      parser.push(wire.subarray(first, second));
      parser.push(wire.subarray(second));
      parser.end();
      assert.deepEqual(frames, expected.frames, `split at ${first}/${second}`);
    }
  }
});

Deno.test("parser survives byte-at-a-time and random chunking", () => {
  const random = seededRandom(7);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const size = Math.floor(random() * 300);
    const payload = Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
    parts.push(encodeFrame({ type: FrameType.Data, flags: i & 15, streamId: i * 2 + 1 }, payload));
  }
  const wire = concat(parts);
  const whole = collect();
  whole.parser.push(wire);
  for (const chunking of ["bytes", "random"]) {
    const { parser, frames } = collect();
    let offset = 0;
    while (offset < wire.length) {
      const step = chunking === "bytes" ? 1 : 1 + Math.floor(random() * 500);
      parser.push(wire.subarray(offset, offset + step));
      offset += step;
    }
    parser.end();
    assert.deepEqual(frames, whole.frames);
  }
});

Deno.test("parser rejects a bad version and an unknown type", () => {
  for (const bytes of [[1, 0], [0, 4], [0, 255]]) {
    const wire = encodeHeader(FrameType.Ping, 0, 0, 0);
    wire[0] = bytes[0];
    wire[1] = bytes[1];
    const { parser } = collect();
    assert.throws(() => parser.push(wire), YamuxProtocolError);
    // Once failed, the parser stays failed.
    assert.throws(() => parser.push(new Uint8Array(1)), YamuxProtocolError);
  }
});

Deno.test("end() reports a truncated header or payload", () => {
  const frame = encodeFrame({ type: FrameType.Data, flags: 0, streamId: 1 }, new Uint8Array(10));
  for (const cut of [1, 11, 13, 21]) {
    const { parser } = collect();
    parser.push(frame.subarray(0, cut));
    assert.equal(parser.atBoundary, false);
    assert.throws(() => parser.end(), YamuxProtocolError, `cut at ${cut}`);
  }
  const { parser } = collect();
  parser.push(frame);
  assert.equal(parser.atBoundary, true);
  parser.end();
});

Deno.test("errors thrown by the handler stop the parser", () => {
  const parser = new FrameParser({
    onHeader: () => {
      throw new YamuxProtocolError("nope");
    },
    onPayload: () => {},
    onFrameEnd: () => {},
  });
  assert.throws(() => parser.push(encodeHeader(FrameType.Ping, 0, 0, 0)), /nope/);
  assert.throws(() => parser.end(), /nope/);
});
