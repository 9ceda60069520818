import { assertEquals } from "../helpers/assert.ts";
import { GoawayStripper } from "../../src/http2/goaway_filter.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function frame(type: number, payload: Uint8Array, streamId = 0): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out.set([payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff, type, 0]);
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(payload, 9);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A seeded PRNG so failures reproduce. */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

Deno.test("GoawayStripper drops GOAWAY frames and nothing else, however the bytes are split", () => {
  const next = random(7);
  for (let round = 0; round < 200; round++) {
    const kept: Uint8Array[] = [PREFACE];
    const sent: Uint8Array[] = [PREFACE];
    for (let i = 0; i < 20; i++) {
      const type = Math.floor(next() * 10);
      const payload = new Uint8Array(Math.floor(next() * 3000)).map(() => Math.floor(next() * 256));
      const bytes = frame(type, payload, i);
      sent.push(bytes);
      if (type !== 0x7) kept.push(bytes);
    }
    const input = concat(sent);
    const stripper = new GoawayStripper();
    const output: Uint8Array[] = [];
    for (let offset = 0; offset < input.length;) {
      const size = 1 + Math.floor(next() * 700);
      output.push(...stripper.filter(input.subarray(offset, offset + size)));
      offset += size;
    }
    assertEquals(Array.from(concat(output)), Array.from(concat(kept)), `round ${round}`);
  }
});
