import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { INITIAL_STREAM_WINDOW, StreamResetError } from "../../src/yamux/const.ts";
import { toDuplex } from "../../src/yamux/duplex.ts";
import {
  checkPattern,
  eventually,
  memoryPair,
  patternSlice,
  readText,
  writePattern,
} from "./helpers.ts";

const MiB = 1024 * 1024;

/** Collects everything a Node readable emits. */
function collect(readable: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  return pipeline(
    readable,
    new Writable({
      write(chunk, _encoding, callback) {
        parts.push(chunk);
        callback();
      },
    }),
  ).then(() => Buffer.concat(parts));
}

/** `total` pattern bytes as Buffers of `size`. */
async function* patternPieces(total: number, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < total; offset += size) {
    yield Buffer.from(patternSlice(offset, Math.min(size, total - offset)));
  }
}

Deno.test("duplex carries data both ways with Node stream semantics", async () => {
  const { client, server, close } = memoryPair();
  try {
    const duplex = toDuplex(await client.open(), {
      localAddress: { address: "/tmp/local.sock", family: "unix" },
      remoteAddress: { address: "10.0.0.7", port: 2305, family: "IPv4" },
    });
    const peer = await server.accept();

    // Node → peer through pipeline(), with end() turning into FIN.
    const toPeer = pipeline(Readable.from(patternPieces(5 * MiB, 100_000)), duplex);
    assert.deepEqual(await checkPattern(peer.readable), { count: 5 * MiB, ok: true });
    await toPeer;

    // peer → Node, ending with the peer's FIN.
    const received = collect(duplex);
    await writePattern(peer.writable, 3 * MiB + 1);
    const bytes = await received;
    assert.equal(bytes.length, 3 * MiB + 1);
    assert.deepEqual(new Uint8Array(bytes.subarray(0, 1000)), patternSlice(0, 1000));

    assert.equal(duplex.remoteAddress, "10.0.0.7");
    assert.equal(duplex.remotePort, 2305);
    assert.deepEqual(duplex.address(), { address: "/tmp/local.sock", port: 0, family: "unix" });
    await duplex.stream.closed;
  } finally {
    await close();
  }
});

Deno.test("duplex offers the socket methods node:http2 calls", async () => {
  const { client, close } = memoryPair();
  try {
    const duplex = toDuplex(await client.open());
    assert.equal(duplex.unref(), duplex);
    assert.equal(duplex.ref(), duplex);
    assert.equal(duplex.setNoDelay(true), duplex);
    assert.equal(duplex.setKeepAlive(true, 1000), duplex);
    let fired = false;
    assert.equal(duplex.setTimeout(5000, () => fired = true), duplex);
    assert.equal(duplex.timeout, 5000);
    assert.equal(fired, false);
    assert.equal(duplex.readyState, "open");
    assert.equal(duplex.connecting, false);
    assert.equal(typeof duplex.remoteAddress, "string");
    duplex.destroy();
  } finally {
    await close();
  }
});

Deno.test("a paused duplex stops reading and the peer's writer waits for window", async () => {
  const { client, server, close } = memoryPair();
  try {
    const stream = await client.open();
    const duplex = toDuplex(stream);
    duplex.pause();
    const peer = await server.accept();
    const writing = writePattern(peer.writable, 4 * MiB);
    await eventually(() => peer.stats.sendWindow === 0, "the peer to run out of window");
    // Node's own buffer holds at most its high-water mark beyond the Yamux window.
    assert.ok(stream.stats.bufferedBytes <= INITIAL_STREAM_WINDOW);
    const bytes = await collect(duplex);
    await writing;
    assert.equal(bytes.length, 4 * MiB);
  } finally {
    await close();
  }
});

Deno.test("destroy(error) resets the stream; destroy() half-closes", async () => {
  const { client, server, close } = memoryPair();
  try {
    const failing = toDuplex(await client.open());
    const failingPeer = await server.accept();
    failing.on("error", () => {});
    failing.destroy(new Error("boom"));
    await assert.rejects(readText(failingPeer.readable), StreamResetError);

    const quitting = toDuplex(await client.open());
    const quittingPeer = await server.accept();
    quitting.destroy();
    assert.equal(await readText(quittingPeer.readable), "");
    // Whatever the peer still sends is discarded, and the stream finishes with its FIN.
    await writePattern(quittingPeer.writable, MiB);
    await quitting.stream.closed;

    // A reset from the peer surfaces as an error on the duplex.
    const reset = toDuplex(await client.open());
    const resetPeer = await server.accept();
    const failed = new Promise<Error>((resolve) => reset.on("error", resolve));
    reset.resume();
    resetPeer.reset();
    assert.ok((await failed) instanceof StreamResetError);
  } finally {
    await close();
  }
});
