import assert from "node:assert/strict";
import { BufferedReader } from "../../src/git/bufreader.ts";
import { RecordReader } from "../../src/git/lines.ts";

const encoder = new TextEncoder();
const text = (bytes: Uint8Array | null) => bytes === null ? null : new TextDecoder().decode(bytes);

/** A byte stream delivering `parts` as separate reads. */
function stream(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const part = parts.shift();
      if (part === undefined) {
        controller.close();
        controller.byobRequest?.respond(0); // a pending BYOB read must be answered
      } else {
        controller.enqueue(encoder.encode(part));
      }
    },
  });
}

Deno.test("BufferedReader views: buffered lines and bytes without copies, nothing read", async () => {
  const reader = new BufferedReader(stream("one\ntwo 3\nabc\npartial", "\n"));
  assert.equal(reader.takeLineView(), null); // nothing read yet
  assert.equal(text(await reader.readLine()), "one");
  assert.equal(text(reader.takeLineView()), "two 3");
  assert.equal(text(reader.peekView(4)), "abc\n");
  assert.equal(reader.peekView(100), null);
  reader.skip(4);
  assert.equal(reader.takeLineView(), null); // "partial" has no LF yet
  assert.equal(text(await reader.readLine()), "partial");
});

Deno.test("RecordReader.takeBuffered takes whole buffered records only", async () => {
  const reader = new RecordReader(stream("a\0b\0c", "\0"));
  assert.equal(reader.takeBuffered(0), null);
  assert.equal(text(await reader.next(0)), "a\0");
  assert.equal(text(reader.takeBuffered(0)), "b\0");
  assert.equal(reader.takeBuffered(0), null);
  assert.equal(text(await reader.next(0)), "c\0");
  assert.equal(await reader.next(0), null);
});
