import {
  detectObjectFormat,
  formatOfOid,
  InvalidObjectIdError,
  isValidOid,
  isZeroOid,
  objectFormatFromConfig,
  objectHash,
  readObjectFormat,
  SHA1,
  SHA256,
  validateOid,
} from "../../src/git/objectid.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { testRunner, withTempDir } from "./helpers.ts";

Deno.test("object formats describe themselves", () => {
  assertEquals(objectHash("sha1"), SHA1);
  assertEquals(objectHash("sha256"), SHA256);
  assertThrows(() => objectHash("md5"), InvalidObjectIdError);
  assertEquals(SHA1.zeroOid.length, 40);
  assertEquals(SHA256.zeroOid.length, 64);
  assert(isZeroOid(SHA256.zeroOid));
  assert(!isZeroOid(SHA1.emptyTreeOid));
});

Deno.test("validates object ids", () => {
  assert(isValidOid(SHA1.emptyTreeOid));
  assert(isValidOid(SHA1.emptyTreeOid, SHA1));
  assert(!isValidOid(SHA1.emptyTreeOid, SHA256));
  assert(isValidOid(SHA256.emptyTreeOid, SHA256));
  assert(!isValidOid(SHA1.emptyTreeOid.toUpperCase()));
  assert(!isValidOid("abc123"));
  assert(!isValidOid("g".repeat(40)));
  assertThrows(() => validateOid("nope", SHA1), /invalid sha1 object id/);
  assertEquals(formatOfOid(SHA256.emptyTreeOid), SHA256);
  assertEquals(formatOfOid("xyz"), undefined);
});

Deno.test("parses extensions.objectFormat from config text", () => {
  assertEquals(objectFormatFromConfig("[core]\n\tbare = true\n"), undefined);
  assertEquals(
    objectFormatFromConfig(
      "[core]\n\trepositoryformatversion = 1\n[Extensions]\n\tObjectFormat = sha256 ; c\n",
    ),
    "sha256",
  );
  assertEquals(objectFormatFromConfig('[extensions]\nobjectformat = "sha1"\n'), "sha1");
});

Deno.test("detects the format of real repositories both ways", async () => {
  const runner = testRunner();
  await withTempDir(async (dir) => {
    for (const format of ["sha1", "sha256"] as const) {
      const path = `${dir}/${format}.git`;
      await runner.runOk({
        args: ["init", "--bare", "--quiet", `--object-format=${format}`, path],
      });
      assertEquals((await detectObjectFormat(runner, path)).format, format);
      assertEquals((await readObjectFormat(path)).format, format);
      const emptyTree = await runner.runText({
        gitDir: path,
        args: ["hash-object", "-t", "tree", "--stdin"],
        stdin: new Uint8Array(0),
      });
      assertEquals(emptyTree, objectHash(format).emptyTreeOid);
    }
  });
});
