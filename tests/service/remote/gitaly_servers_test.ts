import { Metadata } from "@grpc/grpc-js";
import {
  encodeGitalyServers,
  gitalyServerFor,
  gitalyServers,
} from "../../../src/service/remote/gitaly_servers.ts";
import { Code, GrpcError } from "../../../src/server/errors.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";

function metadata(value?: string): Metadata {
  const md = new Metadata();
  if (value !== undefined) md.set("gitaly-servers", value);
  return md;
}

const code = (c: number) => (e: unknown) => e instanceof GrpcError && e.code === c;

Deno.test("gitaly-servers: round trip, unicode included", () => {
  const servers = { default: { address: "tcp://gitaly-1:8075", token: "tøken" } };
  assertEquals(gitalyServers(metadata(encodeGitalyServers(servers))), servers);
  assertEquals(gitalyServerFor(metadata(encodeGitalyServers(servers)), "default"), servers.default);
  assertEquals(gitalyServers(metadata()), undefined);
});

Deno.test("gitaly-servers: what Rails sends (base64 of JSON) decodes", () => {
  const value = btoa(`{"default":{"address":"unix:/gitaly.socket","token":"secret"}}`);
  assertEquals(gitalyServerFor(metadata(value), "default").address, "unix:/gitaly.socket");
});

Deno.test("gitaly-servers: errors carry Gitaly's codes", () => {
  assertThrows(() => gitalyServerFor(metadata(), "default"), code(Code.INTERNAL));
  assertThrows(() => gitalyServers(metadata("not base64 json!")), code(Code.INTERNAL));
  const other = metadata(encodeGitalyServers({ other: { address: "unix:/x", token: "" } }));
  assertThrows(() => gitalyServerFor(other, "default"), code(Code.INVALID_ARGUMENT));
  const empty = metadata(encodeGitalyServers({ default: { address: "", token: "t" } }));
  assertThrows(() => gitalyServerFor(empty, "default"), /empty Gitaly address/);
});
