/**
 * Go's path rules as the tree entry finder uses them, and tree parsing.
 *
 * @module
 */
import { assertEquals } from "../../helpers/assert.ts";
import {
  binaryBytes,
  binaryString,
  cleanPath,
  dirPath,
  parseTree,
} from "../../../src/service/shared/tree_entries.ts";

Deno.test("cleanPath and dirPath follow Go's path.Clean and path.Dir", () => {
  const clean: [string, string][] = [
    ["", "."],
    [".", "."],
    ["a/b", "a/b"],
    ["a//b/", "a/b"],
    ["./a", "a"],
    ["a/../b", "b"],
    ["../a", "../a"],
    ["../../a", "../../a"],
    ["/", "/"],
    ["/../a", "/a"],
    ["a/b/../..", "."],
  ];
  for (const [path, expected] of clean) assertEquals(cleanPath(path), expected, path);
  const dir: [string, string][] = [
    ["", "."],
    ["a", "."],
    ["a/b", "a"],
    ["a/b/c", "a/b"],
    ["/a", "/"],
    ["/", "/"],
    ["../x", ".."],
    ["a//b", "a"],
    ["a/./b", "a"],
  ];
  for (const [path, expected] of dir) assertEquals(dirPath(path), expected, path);
});

Deno.test("binary strings keep every byte", () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertEquals(binaryBytes(binaryString(bytes)), bytes);
});

Deno.test("parseTree: modes, types, raw names and ids", () => {
  const oid = Uint8Array.from({ length: 20 }, (_, i) => i);
  const entry = (mode: string, name: number[]) => [
    ...new TextEncoder().encode(`${mode} `),
    ...name,
    0,
    ...oid,
  ];
  const tree = new Uint8Array([
    ...entry("100644", [0x61]),
    ...entry("40000", [0x64]),
    ...entry("160000", [0x73]),
    ...entry("120000", [0xe9]),
  ]);
  const hex = "000102030405060708090a0b0c0d0e0f10111213";
  assertEquals(parseTree(tree, "dir", 20), [
    { path: "dir/a", mode: 0o100644, oid: hex, type: "blob" },
    { path: "dir/d", mode: 0o40000, oid: hex, type: "tree" },
    { path: "dir/s", mode: 0o160000, oid: hex, type: "commit" },
    { path: "dir/\u00e9", mode: 0o120000, oid: hex, type: "blob" },
  ]);
});
