/**
 * The backchannel end to end in one process: plain and multiplexed clients
 * on the same listeners (Unix, TCP, TLS), the peer handle a handler sees,
 * auth on multiplexed calls, and gRPC served by the client on a stream the
 * server opens.
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { callPeer, PeerCallError } from "../../src/backchannel/call.ts";
import { type BackchannelPeer, peerById } from "../../src/backchannel/peer.ts";
import { unary } from "../../src/server/rpc.ts";
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

Deno.test("callPeer: the server calls the client's gRPC server back over its session", async () => {
  const clientServer = new grpc.Server();
  clientServer.addService(echoService, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      if (text === "fail") {
        callback({ code: grpc.status.FAILED_PRECONDITION, details: "no quorum, 100%" }, null);
      } else if (text === "slow") setTimeout(() => callback(null, call.request), 2000);
      else callback(null, Buffer.concat([Buffer.from("client says: "), call.request]));
    },
  });
  const harness = await startHarness({
    handlers: {
      Call: unary<Buffer, Buffer>(async (request, ctx) => {
        const text = request.toString();
        try {
          const answer = await callPeer(ctx.backchannel!, "/test.Client/Echo", request, {
            timeoutMs: text === "slow" ? 200 : undefined,
          });
          return Buffer.from(answer);
        } catch (error) {
          assert(error instanceof PeerCallError);
          return Buffer.from(`${error.code} ${error.message}`);
        }
      }),
    },
  });
  const mux = new TestCaller(harness.unixAddress, { backchannel: { server: clientServer } });
  try {
    assertEquals((await mux.call("Call", "hello")).toString(), "client says: hello");
    assertEquals((await mux.call("Call", "again")).toString(), "client says: again");
    assertEquals(
      (await mux.call("Call", "fail")).toString(),
      "9 rpc error: code = FailedPrecondition desc = no quorum, 100%",
    );
    assertEquals(
      (await mux.call("Call", "slow")).toString(),
      "4 rpc error: code = DeadlineExceeded desc = context deadline exceeded",
    );
    assertEquals((await mux.call("Call", "after")).toString(), "client says: after");
  } finally {
    mux.close();
    clientServer.forceShutdown();
    await harness.close();
  }
});

Deno.test("peerById: a connection's peer while it is open", async () => {
  let seen: BackchannelPeer | undefined;
  const harness = await startHarness({
    handlers: {
      Call: unary<Buffer, Buffer>((_request, ctx) => {
        seen = ctx.backchannel;
        return Promise.resolve(Buffer.from(String(peerById(ctx.backchannel!.id) === seen)));
      }),
    },
  });
  const mux = new TestCaller(harness.unixAddress, { backchannel: {} });
  try {
    assertEquals((await mux.call("Call", "x")).toString(), "true");
  } finally {
    mux.close();
    await harness.close();
  }
  await seen!.session.closed;
  assertEquals(peerById(seen!.id), undefined);
});
