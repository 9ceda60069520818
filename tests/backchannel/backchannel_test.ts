/**
 * The backchannel end to end in one process: plain and multiplexed clients
 * on the same listeners (Unix, TCP, TLS), the peer handle a handler sees,
 * auth on multiplexed calls, and gRPC served by the client on a stream the
 * server opens.
 */
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import type { BackchannelPeer } from "../../src/backchannel/peer.ts";
import { unary } from "../../src/server/rpc.ts";
import { toDuplex } from "../../src/yamux/duplex.ts";
import type { YamuxStream } from "../../src/yamux/stream.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";
import { callError, startHarness, TestCaller } from "./harness.ts";

/** Answers who called: `plain`, or `mux:<peer id>`. */
const whoAmI = unary<Buffer, Buffer>((_request, ctx) =>
  Promise.resolve(Buffer.from(ctx.backchannel ? `mux:${ctx.backchannel.id}` : "plain"))
);

Deno.test("plain and multiplexed clients share the Unix socket and TCP listeners", async () => {
  const harness = await startHarness({ handlers: { Call: whoAmI } });
  const callers: TestCaller[] = [];
  try {
    for (const target of [harness.unixAddress, harness.tcpTarget]) {
      const plain = new TestCaller(target);
      const mux1 = new TestCaller(target, { backchannel: {} });
      const mux2 = new TestCaller(target, { backchannel: {} });
      callers.push(plain, mux1, mux2);
      assertEquals((await plain.call("Call", "")).toString(), "plain");
      const first = (await mux1.call("Call", "")).toString();
      const second = (await mux2.call("Call", "")).toString();
      assertMatch(first, /^mux:\d+$/);
      assertMatch(second, /^mux:\d+$/);
      assert(first !== second, "each connection has its own peer");
      assertEquals((await mux1.call("Call", "")).toString(), first, "one connection, one peer");
    }
  } finally {
    callers.forEach((c) => c.close());
    await harness.close();
  }
});

Deno.test({
  name: "plain and multiplexed clients share the TLS listener",
  ignore: !(await haveOpenssl()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "backchannel-tls-" });
    const certs = await makeTestCertificates(dir);
    const harness = await startHarness({ handlers: { Call: whoAmI }, tls: certs });
    const base = grpc.credentials.createSsl(Buffer.from(await Deno.readFile(certs.caPath)));
    const target = harness.tlsTarget!.replace("127.0.0.1", "localhost");
    const plain = new TestCaller(target, { base });
    const mux = new TestCaller(target, { base, backchannel: {} });
    try {
      assertEquals((await plain.call("Call", "")).toString(), "plain");
      assertMatch((await mux.call("Call", "")).toString(), /^mux:\d+$/);
    } finally {
      plain.close();
      mux.close();
      await harness.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("multiplexed calls go through the same auth as plain ones", async () => {
  const harness = await startHarness({ handlers: { Call: whoAmI }, token: "secret" });
  const mux = new TestCaller(harness.unixAddress, { backchannel: {} });
  try {
    const denied = await callError(mux.call("Call", ""));
    assertEquals(denied.code, grpc.status.UNAUTHENTICATED);
    const answer = await mux.call("Call", "", { token: "secret" });
    assertMatch(answer.toString(), /^mux:/);
  } finally {
    mux.close();
    await harness.close();
  }
});

Deno.test("the peer's session ends when the client closes its connection", async () => {
  let peer: BackchannelPeer | undefined;
  const harness = await startHarness({
    handlers: {
      Call: unary<Buffer, Buffer>((_request, ctx) => {
        peer = ctx.backchannel;
        return Promise.resolve(Buffer.from("ok"));
      }),
    },
  });
  const mux = new TestCaller(harness.unixAddress, { backchannel: {} });
  try {
    await mux.call("Call", "");
    assert(peer && !peer.closed, "the handler saw an open peer");
    mux.close();
    await peer.session.closed;
    assert(peer.closed);
  } finally {
    mux.close();
    await harness.close();
  }
});

/** A client-side service the server calls back over a stream it opens. */
const echoService: grpc.ServiceDefinition = {
  Echo: {
    path: "/test.Client/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: Buffer) => v,
    requestDeserialize: (v: Buffer) => v,
    responseSerialize: (v: Buffer) => v,
    responseDeserialize: (v: Buffer) => v,
  },
};

Deno.test("a server-opened stream carrying HTTP/2 is served by the client's gRPC server", async () => {
  const clientServer = new grpc.Server();
  clientServer.addService(echoService, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.concat([Buffer.from("client says: "), call.request])),
  });
  const harness = await startHarness({
    handlers: {
      Call: unary<Buffer, Buffer>(async (request, ctx) => {
        const stream = await ctx.backchannel!.openStream();
        return await grpcOverStream(stream, "/test.Client/Echo", request);
      }),
    },
  });
  const mux = new TestCaller(harness.unixAddress, { backchannel: { server: clientServer } });
  try {
    assertEquals((await mux.call("Call", "hello")).toString(), "client says: hello");
    assertEquals((await mux.call("Call", "again")).toString(), "client says: again");
  } finally {
    mux.close();
    clientServer.forceShutdown();
    await harness.close();
  }
});

/** One unary gRPC call made with plain node:http2 over `stream`. */
async function grpcOverStream(stream: YamuxStream, path: string, body: Buffer): Promise<Buffer> {
  const session = http2.connect("http://backchannel", { createConnection: () => toDuplex(stream) });
  try {
    const request = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    request.end(frame);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const response = Buffer.concat(chunks);
    return response.subarray(5, 5 + response.readUInt32BE(1));
  } finally {
    session.close();
  }
}
