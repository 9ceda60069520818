import { AddressError, parseAddress } from "../../src/client/address.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("parseAddress: unix sockets in every spelling Gitaly accepts", () => {
  for (const address of ["unix:/run/gitaly.socket", "unix:relative.socket", "unix:///run/g.sock"]) {
    const parsed = parseAddress(address);
    assertEquals(parsed.scheme, "unix");
    assertEquals(parsed.target, address);
    assertEquals(parsed.secure, false);
  }
});

Deno.test("parseAddress: tcp and tls become host:port targets", () => {
  assertEquals(parseAddress("tcp://127.0.0.1:9999").target, "127.0.0.1:9999");
  assertEquals(parseAddress("tcp://[::1]:9999").target, "[::1]:9999");
  const tls = parseAddress("tls://gitaly.example.com:9999");
  assertEquals([tls.scheme, tls.target, tls.secure], ["tls", "gitaly.example.com:9999", true]);
});

Deno.test("parseAddress: dns targets are passed to the resolver as they are", () => {
  assertEquals(parseAddress("dns:///gitaly.internal:9999").target, "dns:///gitaly.internal:9999");
  assertEquals(parseAddress("dns://8.8.8.8/gitaly.internal:9999").scheme, "dns");
  assertEquals(parseAddress("dns:gitaly.internal:9999").scheme, "dns");
});

Deno.test("parseAddress: rejects what Gitaly's client rejects", () => {
  for (
    const address of [
      "",
      "127.0.0.1:9999",
      "http://host:80",
      "tcp://host:9999/path",
      "tcp:host:9999",
      "unix:",
      "dns://resolver-only",
      "dns:///",
    ]
  ) {
    assertThrows(() => parseAddress(address), AddressError);
  }
});
