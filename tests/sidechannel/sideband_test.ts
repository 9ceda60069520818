/** Side-band framing of SSHUploadPackWithSidechannel, both ends. */
import { demultiplexSideband, SidebandWriter } from "../../src/sidechannel/sideband.ts";
import { assertEquals } from "../helpers/assert.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function demux(wire: Uint8Array[]): Promise<{ out: string; err: string; error?: string }> {
  let out = "";
  let err = "";
  try {
    await demultiplexSideband(ReadableStream.from(wire), {
      stdout: (chunk) => Promise.resolve(void (out += decoder.decode(chunk))),
      stderr: (chunk) => Promise.resolve(void (err += decoder.decode(chunk))),
    });
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
  const result = await demux([all.subarray(0, 3), all.subarray(3, 70_000), all.subarray(70_000)]);
  assertEquals(result, { out: "hello " + big, err: "progress\n" });
});

Deno.test("a flush packet or an unknown band is an error, as in Gitaly's client", async () => {
  assertEquals((await demux([encoder.encode("0000")])).error, 'invalid sideband packet: "0000"');
  assertEquals((await demux([encoder.encode("0006\x03x")])).error, "unexpected band: 3");
});
