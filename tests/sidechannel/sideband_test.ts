/** Side-band framing of SSHUploadPackWithSidechannel, both ends. */
import {
  demultiplexSideband,
  demultiplexSidebandReader,
  SidebandWriter,
} from "../../src/sidechannel/sideband.ts";
import { assertEquals } from "../helpers/assert.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A `read` over `wire`'s pieces, at most `buffer.length` bytes a call. */
function reader(wire: Uint8Array[]): (buffer: Uint8Array) => Promise<number | null> {
  const pieces = wire.map((c) => c.slice());
  return (buffer) => {
    const piece = pieces.shift();
    if (!piece) return Promise.resolve(null);
    const n = Math.min(piece.byteLength, buffer.byteLength);
    buffer.set(piece.subarray(0, n));
    if (n < piece.byteLength) pieces.unshift(piece.subarray(n));
    return Promise.resolve(n);
  };
}

async function demux(
  wire: Uint8Array[],
  overReader = false,
): Promise<{ out: string; err: string; error?: string }> {
  let out = "";
  let err = "";
  const sinks = {
    stdout: (chunk: Uint8Array) => Promise.resolve(void (out += decoder.decode(chunk))),
    stderr: (chunk: Uint8Array) => Promise.resolve(void (err += decoder.decode(chunk))),
  };
  try {
    if (overReader) await demultiplexSidebandReader(reader(wire), sinks, 70_000);
    else await demultiplexSideband(ReadableStream.from(wire), sinks);
    return { out, err };
  } catch (error) {
    return { out, err, error: (error as Error).message };
  }
}

Deno.test("bands 1 and 2 round-trip; big chunks become packets of at most 65520 bytes", async () => {
  const wire: Uint8Array[] = [];
  const writer = new SidebandWriter((chunk) => Promise.resolve(void wire.push(chunk)));
  const big = "x".repeat(150_000);
  await writer.band(1)(encoder.encode("hello "));
  await writer.band(2)(encoder.encode("progress\n"));
  await writer.band(1)(encoder.encode(big));
  const lengths = [];
  const all = new Uint8Array(wire.reduce((n, c) => n + c.byteLength, 0));
  wire.reduce((at, c) => (all.set(c, at), at + c.byteLength), 0);
  for (let at = 0; at < all.byteLength;) {
    const length = parseInt(decoder.decode(all.subarray(at, at + 4)), 16);
    lengths.push(length);
    at += length;
  }
  assertEquals(lengths, [11, 14, 65520, 65520, 18975]);
  // Split the wire anywhere: the demultiplexer reassembles packets.
  const pieces = [all.subarray(0, 3), all.subarray(3, 70_000), all.subarray(70_000)];
  for (const overReader of [false, true]) {
    assertEquals(await demux(pieces, overReader), { out: "hello " + big, err: "progress\n" });
  }
});

Deno.test("a flush packet or an unknown band is an error, as in Gitaly's client", async () => {
  for (const overReader of [false, true]) {
    const error = async (wire: string) => (await demux([encoder.encode(wire)], overReader)).error;
    assertEquals(await error("0000"), 'invalid sideband packet: "0000"');
    assertEquals(await error("0004"), 'invalid sideband packet: "0004"');
    assertEquals(await error("0006\x03x"), "unexpected band: 3");
  }
});

Deno.test("SidebandWriter: bands written at once never interleave through a write in pieces", async () => {
  const wire: number[] = [];
  // A socket-like write: the chunk goes out in small pieces, with waits between them.
  const writer = new SidebandWriter(async (chunk) => {
    for (let at = 0; at < chunk.byteLength; at += 1000) {
      wire.push(...chunk.subarray(at, at + 1000));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  });
  const stdout = writer.band(1);
  const stderr = writer.band(2);
  // git's stdout and stderr arrive at once; each band's next chunk waits for its last.
  await Promise.all([
    stdout(new Uint8Array(5000).fill(0x61)).then(() => stdout(new Uint8Array(3000).fill(0x62))),
    stderr(encoder.encode("progress\n")),
  ]);
  const out: string[] = [];
  await demultiplexSideband(ReadableStream.from([new Uint8Array(wire)]), {
    stdout: (c) => Promise.resolve(void out.push(`1:${c.byteLength}`)),
    stderr: (c) => Promise.resolve(void out.push(`2:${decoder.decode(c)}`)),
  });
  assertEquals(out, ["1:5000", "2:progress\n", "1:3000"]);
});
