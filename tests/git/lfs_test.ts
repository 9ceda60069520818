/**
 * Git LFS pointer detection (Gitaly's rules).
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { isLfsPointer, LFS_POINTER_MAX_SIZE } from "../../src/git/lfs.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const version = "version https://git-lfs.github.com/spec/v1\n";
const oid = `oid sha256:${"0a".repeat(32)}\n`;

Deno.test("isLfsPointer: version prefix, a whole oid line and a whole size line", () => {
  assertEquals(LFS_POINTER_MAX_SIZE, 200);
  const cases: [string, boolean][] = [
    [`${version}${oid}size 12\n`, true],
    [`${version}${oid}size 12`, true], // no final newline
    [`${version}size 12\n${oid}`, true], // any order
    [`${version}${oid}size 12\nextra\n`, true], // more lines are fine
    ["version https://git-lfs.github.com/spec/v2\n" + oid + "size 1\n", true], // any spec version
    [`${oid}size 12\n`, false], // no version
    [`x${version}${oid}size 12\n`, false], // version not first
    [`${version}oid sha256:abc\nsize 3\n`, false], // short oid
    [`${version}oid sha256:${"0A".repeat(32)}\nsize 3\n`, false], // upper case
    [`${version}${oid}`, false], // no size
    [`${version}${oid}size x\n`, false],
    [`${version}${oid}size 12 \n`, false], // trailing blank
    [`${version}${oid.replace("\n", "\r\n")}size 12\r\n`, false], // CRLF
    ["", false],
  ];
  for (const [text, expected] of cases) assertEquals(isLfsPointer(enc(text)), expected, text);
});
