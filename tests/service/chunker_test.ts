/**
 * The list chunkers: by count and by encoded size.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { CountChunker, SizeChunker } from "../../src/service/shared/chunker.ts";

Deno.test("chunker: by count, 20 a message, the rest at flush", async () => {
  const batches: number[][] = [];
  const chunker = new CountChunker<number>((items) => {
    batches.push(items);
    return Promise.resolve();
  });
  for (let i = 0; i < 45; i++) await chunker.add(i);
  await chunker.flush();
  await chunker.flush();
  assertEquals(batches.map((b) => b.length), [20, 20, 5]);
});

Deno.test("chunker: by size, a batch never reaches the limit unless one item does", async () => {
  const batches: string[][] = [];
  const chunker = new SizeChunker<string>((s) => s.length, (items) => {
    batches.push(items);
    return Promise.resolve();
  }, 10);
  for (const item of ["aaaa", "bbbb", "cc", "dddddddddddd", "e"]) await chunker.add(item);
  await chunker.flush();
  assertEquals(batches, [["aaaa", "bbbb"], ["cc"], ["dddddddddddd"], ["e"]]);
});

Deno.test("chunker: by size of a proto message type", async () => {
  const batches: unknown[][] = [];
  const chunker = new SizeChunker("gitaly.Tag", (items) => {
    batches.push(items);
    return Promise.resolve();
  }, 100);
  for (let i = 0; i < 10; i++) {
    await chunker.add({ name: new TextEncoder().encode(`v${i}`), id: "a".repeat(40) });
  }
  await chunker.flush();
  assertEquals(batches.map((b) => b.length), [2, 2, 2, 2, 2]);
});

Deno.test("chunker: sizes as Go's proto.Size, default-valued fields not counted", async () => {
  const batches: number[] = [];
  // 42 bytes on the wire (the id); the explicit defaults add nothing in Go.
  const item = {
    id: "a".repeat(40),
    subject: new Uint8Array(0),
    signature_type: 0,
    encoding: "",
    trailers: [],
    author: null,
  };
  const chunker = new SizeChunker("gitaly.GitCommit", (items) => {
    batches.push(items.length);
    return Promise.resolve();
  }, 85);
  for (let i = 0; i < 4; i++) await chunker.add(item);
  await chunker.flush();
  assertEquals(batches, [2, 2]);
});
