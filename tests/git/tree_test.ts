/**
 * Tree object and `ls-tree -z` parsing.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  entryKind,
  findTreeEntry,
  joinPath,
  LsTreeParser,
  parseTree,
  splitPath,
} from "../../src/git/tree.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("parseTree: modes, byte names and raw object ids", () => {
  const oid = (byte: number) => new Uint8Array(20).fill(byte);
  const record = (mode: string, name: Uint8Array, id: Uint8Array) =>
    new Uint8Array([...encoder.encode(`${mode} `), ...name, 0, ...id]);
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
  const tree = new Uint8Array([
    ...record("100644", encoder.encode("a.txt"), oid(1)),
    ...record("40000", encoder.encode("dir"), oid(0xab)),
    ...record("160000", latin1, oid(0xff)),
  ]);
  const entries = parseTree(tree);
  assertEquals(entries.map((e) => [e.mode, e.oid.slice(0, 4), entryKind(e.mode)]), [
    ["100644", "0101", "blob"],
    ["40000", "abab", "tree"],
    ["160000", "ffff", "commit"],
  ]);
  assertEquals([...entries[2].name], [...latin1]);
  // One name, found in place: the same entry parseTree gives, prefixes and
  // longer names are no match.
  assertEquals(findTreeEntry(tree, encoder.encode("dir")), entries[1]);
  assertEquals(findTreeEntry(tree, latin1), entries[2]);
  for (const name of ["di", "dirs", "a.tx", "", "b"]) {
    assertEquals(findTreeEntry(tree, encoder.encode(name)), undefined, name);
  }
});

Deno.test("LsTreeParser: records split across chunks", () => {
  const out = encoder.encode(
    "100644 blob 1111111111111111111111111111111111111111\ta b.txt\0" +
      "040000 tree 2222222222222222222222222222222222222222\tdir\0",
  );
  const parser = new LsTreeParser();
  const records = [...parser.push(out.subarray(0, 30)), ...parser.push(out.subarray(30))];
  parser.end();
  assertEquals(records.map((r) => [r.mode, r.type, decoder.decode(r.path)]), [
    ["100644", "blob", "a b.txt"],
    ["040000", "tree", "dir"],
  ]);
});

Deno.test("splitPath and joinPath", () => {
  assertEquals(splitPath(encoder.encode("/a//b/")).map((p) => decoder.decode(p)), ["a", "b"]);
  assertEquals(decoder.decode(joinPath(encoder.encode("a"), encoder.encode("b"))), "a/b");
  assertEquals(decoder.decode(joinPath(new Uint8Array(0), encoder.encode("b"))), "b");
});
