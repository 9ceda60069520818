import { chunkBytes, chunkStream, DEFAULT_CHUNK_SIZE } from "../../src/git/chunk.ts";
import {
  BulkBufferPool,
  FRAME_HEADROOM,
  giveBackLent,
  isLent,
} from "../../src/proto/bulk_bytes.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { bytesEqual, concat, patternBytes, testRunner, withTempDir } from "./helpers.ts";

/** A byte stream serving `data` in pieces of `piece` bytes. */
function byteSource(data: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let pos = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (pos >= data.byteLength) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const end = Math.min(pos + piece, data.byteLength);
      controller.enqueue(data.slice(pos, end));
      pos = end;
    },
  });
}

Deno.test("messages are at most chunkSize and reassemble the input", async () => {
  const data = patternBytes(1_000_003, 2);
  for (const [piece, chunkSize] of [[7000, 128 * 1024], [300_000, 100_000], [1, 10]] as const) {
    const input = piece === 1 ? data.subarray(0, 5000) : data;
    const messages: Uint8Array[] = [];
    for await (const message of chunkStream(byteSource(input, piece), { chunkSize })) {
      assert(message.byteLength >= 1 && message.byteLength <= chunkSize);
      messages.push(message);
    }
    assert(bytesEqual(concat(messages), input), `piece ${piece}`);
  }
});

Deno.test("ready data is coalesced into full messages", async () => {
  const data = patternBytes(DEFAULT_CHUNK_SIZE * 4, 3);
  const sizes: number[] = [];
  for await (const message of chunkStream(byteSource(data, 4096))) sizes.push(message.byteLength);
  assertEquals(sizes, [
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CHUNK_SIZE,
  ]);
});

Deno.test("a paused source does not hold back what it produced", async () => {
  // The source emits "hello" and then waits for the consumer's answer:
  // chunkStream must emit "hello" without waiting for more data.
  let release!: () => void;
  const answered = new Promise<void>((resolve) => release = resolve);
  let step = 0;
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (step === 0) controller.enqueue(new TextEncoder().encode("hello"));
      else if (step === 1) {
        await answered;
        controller.enqueue(new TextEncoder().encode("bye"));
      } else controller.close();
      step++;
    },
  }, { highWaterMark: 0 });
  const received: string[] = [];
  for await (const message of chunkStream(source)) {
    received.push(new TextDecoder().decode(message));
    release();
  }
  assertEquals(received, ["hello", "bye"]);
});

Deno.test("stopping early cancels the source; abort throws the reason", async () => {
  let cancelled: unknown;
  const endless = () =>
    new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(1000)),
      cancel: (reason) => {
        cancelled = reason ?? "cancelled";
      },
    });
  for await (const _ of chunkStream(endless())) break;
  assert(cancelled !== undefined, "source cancelled");

  cancelled = undefined;
  const abort = new AbortController();
  await assertRejects(
    (async () => {
      for await (const _ of chunkStream(endless(), { signal: abort.signal })) {
        abort.abort(new Error("stop now"));
      }
    })(),
    /stop now/,
  );
  assert(cancelled !== undefined, "source cancelled on abort");
});

Deno.test("chunks git stdout", async () => {
  const runner = testRunner();
  const payload = patternBytes(2 * 1024 * 1024 + 5, 9);
  await withTempDir(async (dir) => {
    await runner.runOk({ args: ["init", "--bare", "--quiet", dir] });
    const oid = await runner.runText({
      gitDir: dir,
      args: ["hash-object", "-w", "--stdin"],
      stdin: payload,
    });
    const git = runner.spawn({ gitDir: dir, args: ["cat-file", "blob", oid] });
    const messages: Uint8Array[] = [];
    for await (const message of chunkStream(git.stdout)) messages.push(message);
    assertEquals((await git.wait()).code, 0);
    assert(bytesEqual(concat(messages), payload));
    assert(messages.every((m) => m.byteLength <= DEFAULT_CHUNK_SIZE));
  });
});

Deno.test("chunkBytes splits a buffer into views", () => {
  const data = patternBytes(25, 1);
  const pieces = [...chunkBytes(data, 10)];
  assertEquals(pieces.map((p) => p.byteLength), [10, 10, 5]);
  assert(bytesEqual(concat(pieces), data));
  assertEquals([...chunkBytes(new Uint8Array(0))].length, 0);
});

Deno.test("with a pool, messages are lent views of reused buffers", async () => {
  const pool = new BulkBufferPool(64 * 1024);
  const data = patternBytes(1_000_003, 5);
  const copies: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const message of chunkStream(byteSource(data, 10_000), { pool })) {
    assert(isLent(message) && message.byteLength <= pool.size);
    assertEquals(message.byteOffset, FRAME_HEADROOM);
    buffers.add(message.buffer);
    copies.push(message.slice());
    giveBackLent({ data: message }); // what the server does once a message is written
    assert(!isLent(message));
  }
  assert(bytesEqual(concat(copies), data));
  assert(copies.length > 10 && buffers.size <= 2, `${buffers.size} buffers for ${copies.length}`);
});
