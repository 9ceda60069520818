import { assertEquals } from "../helpers/assert.ts";
import { BufferedReader } from "../../src/git/bufreader.ts";

const text = (bytes: Uint8Array | null) => bytes === null ? null : new TextDecoder().decode(bytes);

/** A byte stream delivering `chunks` one read at a time. */
function byteStream(chunks: string[]): ReadableStream<Uint8Array> {
  const queue = chunks.map((chunk) => new TextEncoder().encode(chunk));
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const view = controller.byobRequest!.view! as Uint8Array;
      view.set(next);
      controller.byobRequest!.respond(next.length);
    },
  });
}

Deno.test("takeLine and takeLineViews take only whole lines already buffered, never stale bytes", async () => {
  // Small buffer: after the data moves to the front, old LFs stay behind the end.
  const reader = new BufferedReader(byteStream(["a\nbb\ncc", "c\n", "dd\nee\n", "f"]), 16);
  assertEquals(reader.takeLine(), null, "nothing read yet");
  assertEquals(text(await reader.readLine()), "a");
  assertEquals(text(reader.takeLine()), "bb");
  assertEquals(reader.takeLine(), null, "ccc is not whole yet");
  assertEquals(reader.takeLineViews(), []);
  assertEquals(text(await reader.readLine()), "ccc");
  assertEquals(reader.takeLine(), null);
  assertEquals(text(await reader.readLine()), "dd");
  const views = reader.takeLineViews();
  assertEquals(views.map(text), ["ee"]);
  assertEquals(reader.takeLineViews(), []);
  assertEquals(reader.takeLine(), null);
});

Deno.test("takeLineViews: many lines as views of one copy that later reads do not touch", async () => {
  const reader = new BufferedReader(byteStream(["one\ntwo\n\nthree\nfou", "r\n"]));
  assertEquals(text(await reader.readLine()), "one");
  const views = reader.takeLineViews();
  assertEquals(views.map(text), ["two", "", "three"]);
  assertEquals(new Set(views.map((view) => view.buffer)).size, 1);
  assertEquals(text(await reader.readLine()), "four");
  assertEquals(views.map(text), ["two", "", "three"]);
  assertEquals(await reader.readLine(), null);
});
