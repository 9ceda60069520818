import { sourceStream, toStreamIO } from "../../src/client/io.ts";
import { assertEquals } from "../helpers/assert.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunks: Uint8Array[]) => chunks.map((c) => new TextDecoder().decode(c)).join("");

async function drain(stream: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return text(chunks);
}

Deno.test("io: every kind of source becomes a ReadableStream", async () => {
  assertEquals(await drain(sourceStream(undefined)), "");
  assertEquals(await drain(sourceStream(bytes("one"))), "one");
  assertEquals(await drain(sourceStream([bytes("a"), bytes("b")])), "ab");
  assertEquals(await drain(sourceStream(ReadableStream.from([bytes("stream")]))), "stream");
  assertEquals(
    await drain(sourceStream({ readable: ReadableStream.from([bytes("file")]) })),
    "file",
  );
  async function* generate() {
    yield bytes("gen");
  }
  assertEquals(await drain(sourceStream(generate())), "gen");
});

Deno.test("io: every kind of sink receives the chunks, and is not closed", async () => {
  const viaFunction: Uint8Array[] = [];
  const viaStream: Uint8Array[] = [];
  const viaFile: Uint8Array[] = [];
  const stream = new WritableStream<Uint8Array>({ write: (c) => void viaStream.push(c.slice()) });
  // A Deno-style writer that takes at most two bytes a call.
  const file = {
    write: (c: Uint8Array) => {
      viaFile.push(c.slice(0, 2));
      return Promise.resolve(Math.min(2, c.byteLength));
    },
  };
  const { io, release } = toStreamIO({
    stdout: (c) => void viaFunction.push(c.slice()),
    stderr: stream,
  });
  await io.stdout(bytes("out"));
  await io.stderr(bytes("err"));
  release();
  const second = toStreamIO({ stdout: file, stderr: { writable: stream } });
  await second.io.stdout(bytes("hello"));
  await second.io.stderr(bytes("again"));
  second.release();
  assertEquals([text(viaFunction), text(viaStream), text(viaFile)], ["out", "erragain", "hello"]);
  assertEquals(stream.locked, false);
  const dropped = toStreamIO({});
  await dropped.io.stdout(bytes("nowhere"));
  assertEquals(await drain(dropped.io.stdin), "");
});
