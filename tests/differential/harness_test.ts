/**
 * The differential harness's pure parts: joining chunks, JSON-able bytes,
 * finding the first difference. Runs without the reference.
 *
 * @module
 */
import { assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import {
  assertSame,
  firstDifference,
  joinRecords,
  joinResponses,
  jsonable,
  LARGE_BYTES,
} from "./harness.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("joinResponses auto: repeated fields concatenated, bytes joined, headers kept", () => {
  // "é" split across two chunks: only the joined bytes are valid UTF-8.
  const e = bytes("é");
  const joined = joinResponses([
    { size: 5, oid: "abc", data: new Uint8Array([0x63, 0x61, 0x66, e[0]]), tags: [1, 2] },
    { size: 0, oid: "", data: new Uint8Array([e[1], 0x21]), tags: [3] },
  ], "auto");
  assertEquals(jsonable(joined), { size: 5, oid: "abc", data: "café!", tags: [1, 2, 3] });
});

Deno.test("joinResponses auto: different header values are kept per message", () => {
  const joined = joinResponses([{ oid: "a" }, { oid: "b" }], "auto");
  assertEquals(jsonable(joined), { oid: { $perMessage: ["a", "b"] } });
});

Deno.test("joinResponses by field and none", () => {
  const responses = [{ branches: ["a"], n: 1 }, { branches: ["b", "c"], n: 2 }];
  assertEquals(joinResponses(responses, "branches"), ["a", "b", "c"]);
  assertEquals(joinResponses(responses, "none"), responses);
  assertEquals(jsonable(joinResponses([{ data: bytes("x") }, { data: bytes("y") }], "data")), "xy");
});

Deno.test("jsonable: invalid UTF-8 and large bytes get a marker", () => {
  assertEquals(jsonable(new Uint8Array([0x63, 0xe9, 0x5c, 0x0a])), { $bytes: "c\\xe9\\\\\\x0a" });
  const large = jsonable(new Uint8Array(LARGE_BYTES + 1)) as Record<string, unknown>;
  assertEquals(large.size, LARGE_BYTES + 1);
  assertMatch(String(large.sha256), /^[0-9a-f]{64}$/);
});

Deno.test("firstDifference and assertSame name the first differing path", () => {
  assertEquals(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), undefined);
  assertEquals(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }), "a[1].b");
  assertEquals(firstDifference({ a: [1] }, { a: [1, 2] }), "a.length");
  assertEquals(firstDifference("x", "y"), "<root>");
  const error = assertThrows(() => assertSame({ ok: true }, { ok: false }, "X/Y")) as Error;
  assertMatch(error.message, /^X\/Y: ours and the reference differ at ok\n {2}ours: {6}true/);
});

Deno.test("joinRecords: a set key starts a record, data continues it, later flags win", () => {
  const join = joinRecords("oid");
  const records = joinResponses([
    { oid: "a", size: 3, data: bytes("ab"), end: false },
    { oid: "", size: 0, data: bytes("c"), end: true },
    { oid: "b", size: 0, data: bytes(""), end: false },
  ], join);
  assertEquals(jsonable(records), [
    { oid: "a", size: 3, data: "abc", end: true },
    { oid: "b", size: 0, data: "", end: false },
  ]);
});
