/**
 * grpc-js over a Yamux stream in both directions: the server side injects
 * the stream's duplex into a grpc-js server, the client side returns it from
 * a custom channel credential, the way the backchannel does.
 */

import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import assert from "node:assert/strict";
import { toDuplex } from "../../src/yamux/duplex.ts";
import { YamuxSession } from "../../src/yamux/session.ts";
import { fromDenoConn, fromNodeSocket } from "../../src/yamux/transport.ts";

const CHUNK = 128 * 1024;
const STREAM_TOTAL = 20 * 1024 * 1024;

const identity = (value: Buffer) => value;

/** A two-method service with raw byte messages. */
const testService: grpc.ServiceDefinition = {
  unary: {
    path: "/yamuxtest.Bytes/Unary",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  download: {
    path: "/yamuxtest.Bytes/Download",
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Answers Unary with the reversed request; Download streams the requested byte count. */
const handlers: grpc.UntypedServiceImplementation = {
  unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
    callback(null, Buffer.from(call.request).reverse());
  },
  async download(call: grpc.ServerWritableStream<Buffer, Buffer>) {
    let left = Number(call.request.toString());
    let index = 0;
    while (left > 0) {
      const size = Math.min(CHUNK, left);
      const message = Buffer.alloc(size, index++ & 0xff);
      left -= size;
      if (!call.write(message)) await new Promise((resolve) => call.once("drain", resolve));
    }
    call.end();
  },
};

/** Client credentials whose connector turns the raw socket into stream 1 of a Yamux client session. */
class YamuxCredentials extends grpc.ChannelCredentials {
  readonly sessions: YamuxSession[] = [];

  override _isSecure(): boolean {
    return false;
  }

  override _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(
    _target: unknown,
    _options: unknown,
    callCredentials?: grpc.CallCredentials,
  ) {
    const sessions = this.sessions;
    return {
      async connect(socket: Socket) {
        const session = YamuxSession.client(fromNodeSocket(socket));
        sessions.push(session);
        const stream = await session.open();
        return { socket: toDuplex(stream) as unknown as Socket, secure: false };
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials ?? grpc.credentials.createEmpty(),
      destroy() {},
    };
  }
}

Deno.test({
  name: "grpc-js runs unary and 20 MiB server-streaming calls over a Yamux stream",
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/grpc.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    const server = new grpc.Server();
    server.addService(testService, handlers);
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const serverSessions: YamuxSession[] = [];
    const serving = (async () => {
      for await (const conn of listener) {
        const session = YamuxSession.server(fromDenoConn(conn), {
          maxStreamWindowSize: 16 * 1024 * 1024,
        });
        serverSessions.push(session);
        (async () => {
          for await (const stream of session) injector.injectConnection(toDuplex(stream));
        })();
      }
    })();

    const credentials = new YamuxCredentials();
    const Client = grpc.makeGenericClientConstructor(testService, "Bytes");
    const client = new Client(`unix:${path}`, credentials, {
      "grpc-node.flow_control_window": 16 * 1024 * 1024,
    });
    try {
      const reply = await new Promise<Buffer>((resolve, reject) =>
        client.unary(
          Buffer.from("hello yamux"),
          (error: Error | null, value: Buffer) => error ? reject(error) : resolve(value),
        )
      );
      assert.equal(reply.toString(), "xumay olleh");

      let received = 0;
      let expectedByte = 0;
      const call = client.download(Buffer.from(String(STREAM_TOTAL)));
      for await (const message of call as AsyncIterable<Buffer>) {
        assert.equal(message.length, CHUNK);
        assert.equal(message[0], expectedByte & 0xff);
        assert.equal(message[message.length - 1], expectedByte & 0xff);
        expectedByte++;
        received += message.length;
      }
      assert.equal(received, STREAM_TOTAL);
      assert.equal(credentials.sessions.length, 1);
    } finally {
      client.close();
      injector.destroy();
      server.forceShutdown();
      listener.close();
      await serving.catch(() => {});
      await Promise.all([...credentials.sessions, ...serverSessions].map((s) => s.close()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
