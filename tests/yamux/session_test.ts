import assert from "node:assert/strict";
import {
  Flag,
  FrameType,
  GoAwayCode,
  INITIAL_STREAM_WINDOW,
  RemoteGoAwayError,
  SessionClosedError,
  StreamResetError,
  YamuxProtocolError,
} from "../../src/yamux/const.ts";
import { YamuxSession } from "../../src/yamux/session.ts";
import { fromDenoConn, memoryPipe } from "../../src/yamux/transport.ts";
import {
  checkPattern,
  memoryPair,
  readText,
  type SessionPair,
  settle,
  unixPair,
  writePattern,
  writeText,
} from "./helpers.ts";

const MiB = 1024 * 1024;

/** Echoes every accepted stream back to its opener until the session ends. */
function serveEcho(session: YamuxSession): Promise<void> {
  return (async () => {
    for await (const stream of session) {
      stream.readable.pipeTo(stream.writable).catch(() => {});
    }
  })();
}

async function exchangeBothWays(pair: SessionPair): Promise<void> {
  const { client, server } = pair;
  const opened = await client.open();
  await writeText(opened.writable, "ping from client", true);
  const accepted = await server.accept();
  assert.equal(accepted.id, opened.id);
  assert.equal(opened.id % 2, 1);

  const reader = accepted.readable.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "ping from client");
  await writeText(accepted.writable, "pong from server");
  await opened.closeWrite();
  assert.equal((await reader.read()).done, true);
  assert.equal(await readText(opened.readable), "pong from server");

  // The server opens towards the client too, with even ids.
  const fromServer = await server.open();
  assert.equal(fromServer.id % 2, 0);
  const atClient = await client.accept();
  const echoed = (async () => {
    const { count, ok } = await checkPattern(atClient.readable);
    await writeText(atClient.writable, `${count} ${ok}`);
  })();
  await writePattern(fromServer.writable, 3 * MiB + 17);
  assert.equal(await readText(fromServer.readable), `${3 * MiB + 17} true`);
  await echoed;
  await Promise.all([opened.closed, accepted.closed, fromServer.closed, atClient.closed]);
  assert.equal(client.numStreams, 0);
  assert.equal(server.numStreams, 0);
}

Deno.test("open, accept and data both ways over an in-memory pipe", async () => {
  const pair = memoryPair();
  try {
    await exchangeBothWays(pair);
  } finally {
    await pair.close();
  }
});

Deno.test("open, accept and data both ways over a Unix socket", async () => {
  const pair = await unixPair({ maxStreamWindowSize: 16 * MiB });
  try {
    await exchangeBothWays(pair);
  } finally {
    await pair.close();
  }
});

Deno.test("stream ids increase by two from 1 (client) and 2 (server)", async () => {
  const { client, server, close } = memoryPair();
  try {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client.open()).id, (await server.open()).id);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6]);
  } finally {
    await close();
  }
});

Deno.test("100 concurrent streams echo independently", async () => {
  const pair = await unixPair();
  const serving = serveEcho(pair.server);
  try {
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const stream = await pair.client.open();
        const size = 64 * 1024 + i * 997;
        const [check] = await Promise.all([
          checkPattern(stream.readable),
          writePattern(stream.writable, size, { chunkSize: 10_000 + i }),
        ]);
        return { ...check, size };
      }),
    );
    for (const { count, ok, size } of results) {
      assert.equal(count, size);
      assert.ok(ok);
    }
    assert.equal(pair.client.numStreams, 0);
  } finally {
    await pair.close();
    await serving;
  }
});

Deno.test("half-close: each direction ends on its own", async () => {
  const { client, server, close } = memoryPair();
  try {
    const opened = await client.open();
    await opened.closeWrite();
    const accepted = await server.accept();
    // The server sees EOF at once but can keep writing for as long as it likes.
    assert.equal(await readText(accepted.readable), "");
    const reading = checkPattern(opened.readable);
    await writePattern(accepted.writable, 2 * MiB, { keepOpen: true });
    assert.equal(server.numStreams, 1);
    await accepted.closeWrite();
    assert.deepEqual(await reading, { count: 2 * MiB, ok: true });
    await Promise.all([opened.closed, accepted.closed]);
    assert.equal(client.numStreams + server.numStreams, 0);
    // Writing after our FIN fails locally.
    const late = await settle(writeText(opened.writable, "too late"));
    assert.equal(late.ok, false);
  } finally {
    await close();
  }
});

Deno.test("reset aborts both directions on both ends", async () => {
  const { client, server, close } = memoryPair();
  try {
    const opened = await client.open();
    await writeText(opened.writable, "some data", true);
    const accepted = await server.accept();
    const serverRead = accepted.readable.getReader();
    await serverRead.read();
    const pending = serverRead.read();
    opened.reset();
    await assert.rejects(pending, StreamResetError);
    await assert.rejects(writeText(accepted.writable, "x"), StreamResetError);
    await assert.rejects(writeText(opened.writable, "x"), StreamResetError);
    await Promise.all([opened.closed, accepted.closed]);
    assert.equal(client.numStreams + server.numStreams, 0);

    // Aborting a writable resets too, and so does the server side.
    const second = await client.open();
    const secondAccepted = await server.accept();
    await second.writable.abort(new Error("give up"));
    await assert.rejects(readText(secondAccepted.readable), StreamResetError);
    const third = await server.open();
    const thirdAccepted = await client.accept();
    third.reset();
    await assert.rejects(readText(thirdAccepted.readable), StreamResetError);
  } finally {
    await close();
  }
});

Deno.test("ping measures a round trip from either side", async () => {
  const { client, server, close } = memoryPair();
  try {
    const rtts = await Promise.all([client.ping(), server.ping(), client.ping()]);
    for (const rtt of rtts) assert.ok(rtt >= 0 && Number.isFinite(rtt));
  } finally {
    await close();
  }
  await assert.rejects(client.ping(), SessionClosedError);
});

Deno.test("go away: the peer stops opening, existing streams go on", async () => {
  const { client, server, close } = memoryPair();
  try {
    const before = await client.open();
    const accepted = await server.accept();
    server.goAway();
    // The ping answer is queued after the Go Away, so once it arrives the client knows.
    await client.ping();
    await assert.rejects(client.open(), RemoteGoAwayError);
    await writeText(before.writable, "still fine");
    assert.equal(await readText(accepted.readable), "still fine");
    // The side that sent Go Away can still open.
    const reverse = await server.open();
    const atClient = await client.accept();
    await writeText(reverse.writable, "reverse");
    assert.equal(await readText(atClient.readable), "reverse");
  } finally {
    await close();
  }
});

Deno.test("session teardown when the socket closes underneath it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/teardown.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const [clientConn, serverConn] = await Promise.all([
    Deno.connect({ transport: "unix", path }),
    listener.accept(),
  ]);
  listener.close();
  const client = YamuxSession.client(fromDenoConn(clientConn), { acceptBacklog: 2 });
  const server = YamuxSession.server(fromDenoConn(serverConn), { acceptBacklog: 2 });
  try {
    // Two streams the server never accepts fill the client's SYN budget.
    const streams = [await client.open(), await client.open()];
    const blockedOpen = client.open();
    const pendingAccept = client.accept();
    const pendingRead = streams[0].readable.getReader().read();
    const blockedWrite = writePattern(streams[1].writable, 2 * MiB);
    // Let the frames reach the server before cutting the connection.
    await server.ping();
    serverConn.close();
    await client.closed;
    assert.ok(client.closeReason instanceof SessionClosedError);
    await assert.rejects(blockedOpen, SessionClosedError);
    await assert.rejects(pendingAccept, SessionClosedError);
    await assert.rejects(pendingRead, SessionClosedError);
    await assert.rejects(blockedWrite, SessionClosedError);
    await assert.rejects(client.open(), SessionClosedError);
    await server.closed;
    assert.ok(server.isClosed);
  } finally {
    await Promise.all([client.close(), server.close()]);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data received before the connection died stays readable", async () => {
  const { client, server, close } = memoryPair();
  const opened = await client.open();
  await writeText(opened.writable, "last words", true);
  const accepted = await server.accept();
  await client.ping();
  await client.close();
  const reader = accepted.readable.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "last words");
  await assert.rejects(reader.read(), SessionClosedError);
  await close();
});

Deno.test("a full accept backlog resets new streams", async () => {
  const [a, b] = memoryPipe();
  const client = YamuxSession.client(a);
  const server = YamuxSession.server(b, { acceptBacklog: 2 });
  try {
    const queued = [await client.open(), await client.open()];
    const refused = await client.open();
    await assert.rejects(readText(refused.readable), StreamResetError);
    await refused.closed;
    for (const stream of queued) await writeText(stream.writable, `stream ${stream.id}`);
    for (const stream of queued) {
      const accepted = await server.accept();
      assert.equal(accepted.id, stream.id);
      assert.equal(await readText(accepted.readable), `stream ${stream.id}`);
    }
    // With the backlog drained, new streams are welcome again.
    const later = await client.open();
    assert.equal((await server.accept()).id, later.id);
  } finally {
    await Promise.all([client.close(), server.close()]);
  }
});

Deno.test("close() sends a normal Go Away and errors open streams on both ends", async () => {
  const { client, server, close } = memoryPair();
  try {
    const opened = await client.open();
    const accepted = await server.accept();
    const serverRead = readText(accepted.readable);
    await client.close();
    await assert.rejects(serverRead, SessionClosedError);
    await assert.rejects(readText(opened.readable), SessionClosedError);
    await server.closed;
  } finally {
    await close();
  }
});

Deno.test("flags ride on any stream frame: SYN and FIN on Data, ACK on Data", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("server");
  try {
    // The raw client opens stream 1 with a Data frame carrying SYN and FIN.
    const payload = new TextEncoder().encode("hello");
    await peer.sendFrame(FrameType.Data, Flag.SYN | Flag.FIN, 1, payload.length, payload);
    const stream = await peer.session.accept();
    assert.equal(stream.id, 1);
    assert.equal(await readText(stream.readable), "hello");
    const ack = await peer.waitFrame((f) =>
      f.header.streamId === 1 && !!(f.header.flags & Flag.ACK)
    );
    assert.equal(ack.header.type, FrameType.WindowUpdate);
    assert.equal(ack.header.length, 0);

    // Our stream 2: the raw peer answers with ACK on a Data frame.
    const ours = await peer.session.open();
    const syn = await peer.waitFrame((f) => f.header.streamId === 2);
    assert.equal(syn.header.flags, Flag.SYN);
    assert.equal(syn.header.type, FrameType.WindowUpdate);
    const reply = new TextEncoder().encode("ack+data");
    await peer.sendFrame(FrameType.Data, Flag.ACK | Flag.FIN, 2, reply.length, reply);
    assert.equal(await readText(ours.readable), "ack+data");
    await ours.closeWrite();
    await peer.waitFrame((f) => f.header.streamId === 2 && !!(f.header.flags & Flag.FIN));
    await ours.closed;
    await stream.closeWrite();
    await stream.closed;
    assert.equal(peer.session.numStreams, 0);
    assert.ok(!peer.session.isClosed);
  } finally {
    await peer.close();
  }
});

Deno.test("the SYN carries the extra window and the ACK answers with it", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("client", { maxStreamWindowSize: 16 * MiB });
  try {
    await peer.session.open();
    const syn = await peer.waitFrame((f) => f.header.streamId === 1);
    assert.deepEqual(syn.header, {
      version: 0,
      type: FrameType.WindowUpdate,
      flags: Flag.SYN,
      streamId: 1,
      length: 16 * MiB - INITIAL_STREAM_WINDOW,
    });
    await peer.sendFrame(FrameType.WindowUpdate, Flag.SYN, 2, 0);
    await peer.session.accept();
    const ack = await peer.waitFrame((f) => f.header.streamId === 2);
    assert.equal(ack.header.flags, Flag.ACK);
    assert.equal(ack.header.length, 16 * MiB - INITIAL_STREAM_WINDOW);
  } finally {
    await peer.close();
  }
});

Deno.test("a writer waits for window and never oversends", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("client");
  try {
    const stream = await peer.session.open();
    const writing = writePattern(stream.writable, INITIAL_STREAM_WINDOW + 1000);
    const sent = () =>
      peer.frames.filter((f) => f.header.type === FrameType.Data)
        .reduce((sum, f) => sum + f.payload.length, 0);
    await peer.waitFrame(() => sent() === INITIAL_STREAM_WINDOW);
    // A ping round trip proves nothing more is coming without window.
    await peer.sendFrame(FrameType.Ping, Flag.SYN, 0, 5);
    await peer.waitFrame((f) => f.header.type === FrameType.Ping);
    assert.equal(sent(), INITIAL_STREAM_WINDOW);
    await peer.sendFrame(FrameType.WindowUpdate, Flag.ACK, 1, 600);
    await peer.waitFrame(() => sent() === INITIAL_STREAM_WINDOW + 600);
    await peer.sendFrame(FrameType.WindowUpdate, 0, 1, 400);
    await writing;
    await peer.waitFrame((f) => !!(f.header.flags & Flag.FIN));
    assert.equal(sent(), INITIAL_STREAM_WINDOW + 1000);
  } finally {
    await peer.close();
  }
});

Deno.test("direct writes waiting for window keep their order and never interleave", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("client");
  try {
    const stream = await peer.session.open();
    const first = new Uint8Array(INITIAL_STREAM_WINDOW + 1000).fill(1);
    const second = new Uint8Array(3000).fill(2);
    const writes = [stream.write(first), stream.write(second)];
    const payloads = () =>
      peer.frames.filter((f) => f.header.type === FrameType.Data).map((f) => f.payload);
    const sent = () => payloads().reduce((sum, p) => sum + p.length, 0);
    await peer.waitFrame(() => sent() === INITIAL_STREAM_WINDOW);
    await peer.sendFrame(FrameType.WindowUpdate, Flag.ACK, 1, 10_000);
    await Promise.all(writes);
    await stream.closeWrite();
    await peer.waitFrame((f) => !!(f.header.flags & Flag.FIN));
    const bytes = payloads().flatMap((p) => [...p]);
    assert.equal(bytes.length, first.length + second.length);
    assert.equal(bytes.indexOf(2), first.length);
    assert.ok(bytes.slice(first.length).every((b) => b === 2));
  } finally {
    await peer.close();
  }
});

Deno.test("stream close timeout resets a stream whose peer never sends FIN", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("client", { streamCloseTimeoutMs: 20 });
  try {
    const stream = await peer.session.open();
    await stream.closeWrite();
    await peer.waitFrame((f) => f.header.streamId === 1 && !!(f.header.flags & Flag.RST));
    await assert.rejects(readText(stream.readable), StreamResetError);
    await stream.closed;
    assert.equal(peer.session.numStreams, 0);
  } finally {
    await peer.close();
  }
});

Deno.test("keepalive failure and open timeout close the session", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const keepalive = new RawPeer("client", {
    enableKeepAlive: true,
    keepAliveIntervalMs: 5,
    connectionWriteTimeoutMs: 30,
  });
  await keepalive.waitFrame((f) => f.header.type === FrameType.Ping && f.header.flags === Flag.SYN);
  await keepalive.session.closed;
  assert.match(String(keepalive.session.closeReason), /keepalive/);
  await keepalive.close();

  const opening = new RawPeer("client", { streamOpenTimeoutMs: 20 });
  await opening.session.open();
  await opening.session.closed;
  assert.match(String(opening.session.closeReason), /open timed out/);
  await opening.close();
});

Deno.test("a peer's Go Away with an error code ends the session", async () => {
  const { RawPeer } = await import("./helpers.ts");
  for (const code of [GoAwayCode.ProtocolError, GoAwayCode.InternalError]) {
    const peer = new RawPeer("server");
    const pendingAccept = peer.session.accept();
    await peer.sendFrame(FrameType.GoAway, 0, 0, code);
    await peer.session.closed;
    await assert.rejects(pendingAccept);
    assert.equal(
      peer.session.closeReason instanceof YamuxProtocolError,
      code === GoAwayCode.ProtocolError,
    );
    await peer.close();
  }
});

Deno.test("window updates go out once half the maximum window has been consumed", async () => {
  const { RawPeer } = await import("./helpers.ts");
  const peer = new RawPeer("server", { maxStreamWindowSize: MiB });
  try {
    await peer.sendFrame(FrameType.WindowUpdate, Flag.SYN, 1, 0);
    const stream = await peer.session.accept();
    const ack = await peer.waitFrame((f) => f.header.streamId === 1);
    assert.equal(ack.header.length, MiB - INITIAL_STREAM_WINDOW);
    const updates = () =>
      peer.frames.filter((f) => f.header.type === FrameType.WindowUpdate && f.header.flags === 0);
    const reader = stream.readable.getReader();
    // Send the whole window in 4 KiB frames and consume it 4 KiB at a time.
    for (let sent = 0; sent < 3 * MiB; sent += 4096) {
      await peer.sendFrame(FrameType.Data, 0, 1, 4096, new Uint8Array(4096));
      const { value } = await reader.read();
      assert.equal(value?.length, 4096);
      assert.ok(stream.stats.bufferedBytes + stream.stats.receiveWindow <= MiB);
    }
    await peer.sendFrame(FrameType.Ping, Flag.SYN, 0, 1);
    await peer.waitFrame((f) => f.header.type === FrameType.Ping);
    const increments = updates().map((f) => f.header.length);
    assert.ok(increments.length >= 5, `only ${increments.length} updates`);
    for (const increment of increments) {
      assert.ok(increment >= MiB / 2, `small update ${increment}`);
    }
    // Everything consumed was granted back, less what is still under the threshold.
    const granted = increments.reduce((sum, n) => sum + n, 0);
    assert.ok(3 * MiB - granted < MiB / 2);
  } finally {
    await peer.close();
  }
});
