/** PrefixReader: exact reads across chunk boundaries, and nothing lost after them. */
import { PrefixReader, UnexpectedEofError } from "../../src/backchannel/prefix_reader.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoded = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream({
    pull(controller) {
      const next = encoded.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += text(chunk);
  return out;
}

Deno.test("readExactly assembles prefixes split across chunks and keeps the rest", async () => {
  const reader = new PrefixReader(streamOf("side", "chan", "nel12345678ok", "rest", "!"));
  assertEquals(text(await reader.readExactly(11)), "sidechannel");
  assertEquals(text(await reader.readExactly(8)), "12345678");
  assertEquals(text(await reader.readExactly(2)), "ok");
  assertEquals(await readAll(reader.rest()), "rest!");
});

Deno.test("release hands back the bytes read past the prefix", async () => {
  const source = streamOf("PRI * HTTP/2.0\r\n", "more");
  const reader = new PrefixReader(source);
  assertEquals(text(await reader.readExactly(11)), "PRI * HTTP/");
  assertEquals(text(reader.release()), "2.0\r\n");
  assertEquals(await readAll(source), "more");
});

Deno.test("an early end is EOF, or unexpected EOF after a partial prefix", async () => {
  for (const [chunks, message] of [[[], "EOF"], [["ab"], "unexpected EOF"]] as const) {
    const reader = new PrefixReader(streamOf(...chunks));
    let error: unknown;
    await reader.readExactly(3).catch((e) => error = e);
    assert(error instanceof UnexpectedEofError, "rejects with UnexpectedEofError");
    assertEquals((error as Error).message, message);
  }
});
