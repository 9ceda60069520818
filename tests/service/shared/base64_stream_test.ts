/**
 * The streaming base64 decoder answers as Go's `base64.NewDecoder` does.
 *
 * @module
 */
import { assertEquals } from "../../helpers/assert.ts";
import { Base64Decoder } from "../../../src/service/shared/base64_stream.ts";

function decode(...chunks: string[]): string {
  const decoder = new Base64Decoder();
  let out = "";
  try {
    for (const chunk of chunks) {
      out += new TextDecoder().decode(decoder.push(new TextEncoder().encode(chunk)));
    }
    decoder.end();
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
  return out;
}

Deno.test("base64 stream: decodes across chunks, skipping CR and LF", () => {
  assertEquals(decode("aGVs", "bG8gd29y", "bGQ="), "hello world");
  assertEquals(decode("aG", "Vs\r\nbG8=\n"), "hello");
  assertEquals(decode(""), "");
});

Deno.test("base64 stream: Go's errors", () => {
  assertEquals(decode("aGVsbG8=!!!!"), "error: illegal base64 data at input byte 8");
  assertEquals(decode("ab!d"), "error: illegal base64 data at input byte 2");
  assertEquals(decode("a$b"), "error: unexpected EOF");
  assertEquals(decode("aGVsbG8"), "error: unexpected EOF");
  assertEquals(decode("a==="), "error: illegal base64 data at input byte 1");
});
