/**
 * The sidechannel handshake and framing in one process: a test handler
 * opens the caller's sidechannel; the client answers through a
 * SidechannelRegistry, or through raw handlers that misbehave on purpose.
 */
import { Buffer } from "node:buffer";
import type { IncomingStreamHandler } from "../../src/backchannel/client.ts";
import { unary } from "../../src/server/rpc.ts";
import { CallbackDidNotRunError, SidechannelError } from "../../src/sidechannel/errors.ts";
import { SIDECHANNEL_METADATA_KEY } from "../../src/sidechannel/protocol.ts";
import { SidechannelRegistry } from "../../src/sidechannel/registry.ts";
import { openSidechannel } from "../../src/sidechannel/server.ts";
import type { YamuxStream } from "../../src/yamux/stream.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { type Harness, startHarness, TestCaller } from "../backchannel/harness.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * `Call`: opens the sidechannel (the request text is the handshake
 * timeout in ms, default 5 s), echoes the request after `echo:`. Failures
 * come back as text so tests can compare Gitaly's messages.
 * `Other`: answers the sidechannel with as many bytes as the request says.
 */
const handlers = {
  Call: unary<Buffer, Buffer>(async (request, ctx) => {
    const timeoutMs = Number(request.toString()) || undefined;
    let conn;
    try {
      conn = await openSidechannel(ctx.backchannel, ctx.metadata, {
        signal: ctx.signal,
        timeoutMs,
      });
    } catch (error) {
      if (!(error instanceof SidechannelError)) throw error;
      return Buffer.from(`open failed: ${error.message}`);
    }
    try {
      const body = await readAll(conn.request);
      await conn.write(Buffer.concat([Buffer.from("echo:"), body]));
      await conn.close();
      return Buffer.from(`read ${body.byteLength}`);
    } catch (error) {
      conn.reset();
      return Buffer.from(`read failed: ${(error as Error).message}`);
    }
  }),
  Other: unary<Buffer, Buffer>(async (request, ctx) => {
    const conn = await openSidechannel(ctx.backchannel, ctx.metadata, { signal: ctx.signal });
    await readAll(conn.request);
    const chunk = new Uint8Array(1024 * 1024).fill(7);
    for (let left = Number(request.toString()); left > 0; left -= chunk.byteLength) {
      await conn.write(left >= chunk.byteLength ? chunk : chunk.subarray(0, left));
    }
    await conn.close();
    return Buffer.from("sent");
  }),
};

/** A harness plus one multiplexed caller with the given sidechannel handlers. */
async function withCaller(
  sidechannelHandlers: Record<string, IncomingStreamHandler>,
  body: (caller: TestCaller, harness: Harness) => Promise<void>,
): Promise<void> {
  const harness = await startHarness({ handlers });
  const caller = new TestCaller(harness.unixAddress, {
    backchannel: { handlers: sidechannelHandlers },
  });
  try {
    await body(caller, harness);
  } finally {
    caller.close();
    await harness.close();
  }
}

Deno.test("request and response cross the sidechannel; big writes are split into packets", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller) => {
    const request = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251);
    const waiter = registry.register(async (conn) => {
      await conn.write(request.subarray(0, 70_000));
      await conn.write(request.subarray(70_000));
      await conn.closeWrite();
      return await readAll(conn.readable);
    });
    const answer = await caller.call("Call", "", { metadata: waiter.metadata });
    assertEquals(answer.toString(), "read 200000");
    const response = await waiter.close();
    assertEquals(decoder.decode(response.subarray(0, 5)), "echo:");
    assert(Buffer.from(response.subarray(5)).equals(request), "the echo matches the request");
    assertEquals(registry.waiting, 0);
  });
});

Deno.test("the last metadata value names the sidechannel; an unused waiter did not run", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller) => {
    const unused = registry.register(() => Promise.resolve("unused"));
    const used = registry.register(async (conn) => {
      await conn.closeWrite();
      return decoder.decode(await readAll(conn.readable));
    });
    const ids = [unused.id.toString(), used.id.toString()];
    await caller.call("Call", "", { metadata: { [SIDECHANNEL_METADATA_KEY]: ids } });
    assertEquals(await used.close(), "echo:");
    let error: unknown;
    await unused.close().catch((e) => error = e);
    assert(error instanceof CallbackDidNotRunError, "closing an unused waiter rejects");
    assertEquals(
      (error as Error).message,
      "sidechannel: callback de-registered without having run",
    );
  });
});

Deno.test("a response far larger than the flow-control windows arrives whole", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller) => {
    const size = 24 * 1024 * 1024 + 5;
    const waiter = registry.register(async (conn) => {
      await conn.closeWrite();
      let total = 0;
      for await (const chunk of conn.readable) total += chunk.byteLength;
      return total;
    });
    assertEquals(
      (await caller.call("Other", String(size), { metadata: waiter.metadata })).toString(),
      "sent",
    );
    assertEquals(await waiter.close(), size);
  });
});

Deno.test("an unknown id is refused: the client closes the stream", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller) => {
    const answer = await caller.call("Call", "", {
      metadata: { [SIDECHANNEL_METADATA_KEY]: "12345" },
    });
    assertEquals(answer.toString(), "open failed: sidechannel: receive confirmation: EOF");
  });
});

Deno.test("a sidechannel that is never confirmed fails at the deadline and is reset", async () => {
  let held: Promise<string> | undefined;
  const silent: IncomingStreamHandler = (stream: YamuxStream, reader) => {
    held = reader.readExactly(8).then(() => reader.readExactly(1)).then(
      () => "data",
      (error) => `${error.name}`,
    );
    void stream;
  };
  await withCaller({ sidechannel: silent }, async (caller) => {
    const answer = await caller.call("Call", "1000", {
      metadata: { [SIDECHANNEL_METADATA_KEY]: "0" },
    });
    assertEquals(
      answer.toString(),
      "open failed: sidechannel: receive confirmation: i/o deadline reached",
    );
    assertEquals(await held, "StreamResetError");
  });
});

Deno.test("request framing: 0001–0003 are invalid, and the request must end with a flush", async () => {
  const cases: [string, string][] = [
    ["0009hello0001", "read failed: sidechannel: invalid header 1"],
    ["0002", "read failed: sidechannel: invalid header 2"],
    ["0003", "read failed: sidechannel: invalid header 3"],
    ["0009hello", "read failed: unexpected EOF"],
    ["0009hel", "read failed: unexpected EOF"],
    ["00040009hello0000", "read 5"],
  ];
  for (const [wire, expected] of cases) {
    const raw: IncomingStreamHandler = (stream, reader) => {
      reader.readExactly(8).then(async () => {
        const writer = stream.writable.getWriter();
        await writer.write(encoder.encode(`ok${wire}`));
        await writer.close();
      });
    };
    await withCaller({ sidechannel: raw }, async (caller) => {
      const answer = await caller.call("Call", "", {
        metadata: { [SIDECHANNEL_METADATA_KEY]: "1" },
      });
      assertEquals(answer.toString(), expected, wire);
    });
  }
});

Deno.test("opening needs the id in metadata and a multiplexed connection", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller, harness) => {
    assertEquals(
      (await caller.call("Call", "")).toString(),
      "open failed: sidechannel: sidechannel-id not found in incoming metadata",
    );
    const plain = new TestCaller(harness.unixAddress);
    try {
      const answer = await plain.call("Call", "", {
        metadata: { [SIDECHANNEL_METADATA_KEY]: "0" },
      });
      assertEquals(
        answer.toString(),
        "open failed: sidechannel: fail to extract yamux session: non-multiplexed connection",
      );
    } finally {
      plain.close();
    }
  });
});

Deno.test("a failing callback resets the stream and its error reaches close()", async () => {
  const registry = new SidechannelRegistry();
  await withCaller(registry.handlers, async (caller) => {
    const waiter = registry.register(() => Promise.reject(new Error("callback broke")));
    const answer = await caller.call("Call", "", { metadata: waiter.metadata });
    assertEquals(answer.toString().startsWith("read failed: "), true, answer.toString());
    let error: unknown;
    await waiter.close().catch((e) => error = e);
    assertEquals((error as Error).message, "callback broke");
  });
});
