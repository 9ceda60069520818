import {
  decodeSideband,
  delimPkt,
  encodePktLine,
  encodeSideband,
  flushPkt,
  MAX_PKT_PAYLOAD,
  MAX_PKT_SIZE,
  MAX_SIDEBAND_DATA,
  type PktLine,
  PktLineDecoder,
  PktLineError,
  PktLineFramer,
  readPktLines,
  responseEndPkt,
} from "../../src/git/pktline.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { bytesEqual, concat, patternBytes } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A small seeded PRNG so a failing split pattern can be reproduced. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
}

/** A stream emitting `bytes` cut at random points (including 1-byte pieces). */
function splitStream(bytes: Uint8Array, seed: number): ReadableStream<Uint8Array> {
  const next = random(seed);
  const pieces: Uint8Array[] = [];
  for (let pos = 0; pos < bytes.byteLength;) {
    const size = next() < 0.3 ? 1 + Math.floor(next() * 5) : 1 + Math.floor(next() * 70_000);
    pieces.push(bytes.slice(pos, pos + size));
    pos += size;
  }
  return ReadableStream.from(pieces);
}

async function decodeAll(stream: ReadableStream<Uint8Array>): Promise<PktLine[]> {
  const packets: PktLine[] = [];
  for await (const pkt of readPktLines(stream)) {
    // Copy: payloads may be views into chunks.
    packets.push(pkt.type === "data" ? { type: "data", payload: pkt.payload.slice() } : pkt);
  }
  return packets;
}

function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

Deno.test("encodes data and special packets", () => {
  assertEquals(decoder.decode(encodePktLine("hello\n")), "000ahello\n");
  assertEquals(decoder.decode(encodePktLine("")), "0004");
  assertEquals(decoder.decode(flushPkt()), "0000");
  assertEquals(decoder.decode(delimPkt()), "0001");
  assertEquals(decoder.decode(responseEndPkt()), "0002");
  assertEquals(encodePktLine(new Uint8Array(MAX_PKT_PAYLOAD)).byteLength, MAX_PKT_SIZE);
  assertEquals(
    decoder.decode(encodePktLine(new Uint8Array(MAX_PKT_PAYLOAD)).subarray(0, 4)),
    "fff0",
  );
  assertThrows(() => encodePktLine(new Uint8Array(MAX_PKT_PAYLOAD + 1)), PktLineError);
});

Deno.test("round trip survives random chunk splits", async () => {
  const next = random(42);
  const expected: PktLine[] = [];
  const wire: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const roll = next();
    if (roll < 0.1) {
      expected.push({ type: "flush" });
      wire.push(flushPkt());
    } else if (roll < 0.15) {
      expected.push({ type: "delim" });
      wire.push(delimPkt());
    } else if (roll < 0.2) {
      expected.push({ type: "response-end" });
      wire.push(responseEndPkt());
    } else {
      const size = roll < 0.3 ? MAX_PKT_PAYLOAD : Math.floor(next() * 3000);
      const payload = patternBytes(size, i + 1);
      expected.push({ type: "data", payload });
      wire.push(encodePktLine(payload));
    }
  }
  const bytes = concat(wire);
  for (const seed of [1, 2, 3, 4, 5]) {
    const packets = await decodeAll(splitStream(bytes, seed));
    assertEquals(packets.length, expected.length);
    packets.forEach((pkt, i) => {
      const want = expected[i];
      assertEquals(pkt.type, want.type, `packet ${i}`);
      if (pkt.type === "data" && want.type === "data") {
        assert(bytesEqual(pkt.payload, want.payload), `payload ${i} (seed ${seed})`);
      }
    });
  }
});

Deno.test("rejects bad lengths and truncated input", async () => {
  const bad = [
    "00zzabcd", // not hex
    "0003", // reserved
    "fff1" + "x".repeat(100), // longer than 65520
    "0009abc", // ends inside a packet
    "00", // ends inside a header
    "-001",
  ];
  for (const input of bad) {
    await assertRejects(decodeAll(splitStream(bytesOf(input), 9)), PktLineError);
  }
  // Upper-case hex is what git's own parser accepts too.
  const packets = await decodeAll(ReadableStream.from([bytesOf("000Ahello\n")]));
  assertEquals(decoder.decode((packets[0] as { payload: Uint8Array }).payload), "hello\n");
});

Deno.test("side-band packets split at 65520 bytes", () => {
  const data = patternBytes(MAX_SIDEBAND_DATA * 2 + 10, 11);
  const framed = encodeSideband(1, data);
  assertEquals(framed.byteLength, data.byteLength + 3 * 5);
  assertEquals(decoder.decode(framed.subarray(0, 5)), "fff0\x01");
  assertEquals(encodeSideband(2, new Uint8Array(0)).byteLength, 0);
  const small = encodeSideband(2, bytesOf("progress"), 1000);
  assertEquals(decoder.decode(small), "000d\x02progress");
  const old = encodeSideband(3, new Uint8Array(2000), 1000);
  assertEquals(decoder.decode(old.subarray(0, 5)), "03e8\x03");
  const { band, data: body } = decodeSideband(bytesOf("\x02hi"));
  assertEquals(band, 2);
  assertEquals(decoder.decode(body), "hi");
  assertThrows(() => decodeSideband(bytesOf("\x04x")), PktLineError);
  assertThrows(() => decodeSideband(new Uint8Array(0)), PktLineError);
});

Deno.test("framer frames a byte stream and decodes back", async () => {
  const data = patternBytes(300_000, 13);
  const framed = splitStream(data, 21).pipeThrough(new PktLineFramer({ flushAtEnd: true }));
  const packets = await decodeAll(framed);
  assertEquals(packets.at(-1)?.type, "flush");
  const payloads = packets.slice(0, -1).map((pkt) => {
    assert(pkt.type === "data");
    assert(pkt.payload.byteLength <= MAX_PKT_PAYLOAD);
    return pkt.payload;
  });
  assert(bytesEqual(concat(payloads), data));
});

Deno.test("side-band framer prefixes the band and stays within 65520 bytes", async () => {
  const data = patternBytes(200_000, 17);
  const stream = ReadableStream.from([data]).pipeThrough(new PktLineFramer({ band: 2 }));
  const packets = await decodeAll(stream);
  const bodies = packets.map((pkt) => {
    assert(pkt.type === "data");
    assert(pkt.payload.byteLength + 4 <= MAX_PKT_SIZE);
    const { band, data } = decodeSideband(pkt.payload);
    assertEquals(band, 2);
    return data;
  });
  assert(bytesEqual(concat(bodies), data));
});

Deno.test("decoder works as a TransformStream", async () => {
  const stream = ReadableStream.from([bytesOf("0006a\n0000")]).pipeThrough(new PktLineDecoder());
  const types: string[] = [];
  for await (const pkt of stream) types.push(pkt.type);
  assertEquals(types, ["data", "flush"]);
});
