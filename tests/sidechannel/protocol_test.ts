/** Sidechannel ids on the wire and in metadata. */
import {
  decodeSidechannelId,
  encodeSidechannelId,
  parseSidechannelId,
} from "../../src/sidechannel/protocol.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("ids are 8 bytes big-endian, signed", () => {
  assertEquals([...encodeSidechannelId(1n)], [0, 0, 0, 0, 0, 0, 0, 1]);
  assertEquals([...encodeSidechannelId(0x0102030405060708n)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assertEquals([...encodeSidechannelId(-1n)], [255, 255, 255, 255, 255, 255, 255, 255]);
  for (const id of [0n, 1n, 255n, 1n << 40n, -5n, (1n << 63n) - 1n]) {
    assertEquals(decodeSidechannelId(encodeSidechannelId(id)), id);
  }
});

Deno.test("metadata ids parse like Go's ParseInt with the error ignored", () => {
  assertEquals(parseSidechannelId("42"), 42n);
  assertEquals(parseSidechannelId("-3"), -3n);
  assertEquals(parseSidechannelId("+7"), 7n);
  assertEquals(parseSidechannelId("x"), 0n);
  assertEquals(parseSidechannelId(""), 0n);
  assertEquals(parseSidechannelId(" 1"), 0n);
  assertEquals(parseSidechannelId("99999999999999999999"), (1n << 63n) - 1n);
  assertEquals(parseSidechannelId("-99999999999999999999"), -(1n << 63n));
});
