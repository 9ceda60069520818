import assert from "node:assert/strict";
import {
  Flag,
  FrameType,
  GoAwayCode,
  INITIAL_STREAM_WINDOW,
  YamuxProtocolError,
} from "../../src/yamux/const.ts";
import { encodeFrame, encodeHeader, type FrameHeader, FrameParser } from "../../src/yamux/frame.ts";
import { YamuxSession } from "../../src/yamux/session.ts";
import { memoryPipe } from "../../src/yamux/transport.ts";
import { RawPeer, readText } from "./helpers.ts";

/** What a malicious or broken client sends to a server session. */
interface BadInput {
  name: string;
  send(peer: RawPeer): Promise<void>;
}

const syn = (id: number) =>
  encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: id });
const data = (id: number, size: number, flags = 0) =>
  encodeFrame({ type: FrameType.Data, flags, streamId: id }, new Uint8Array(size));

const badInputs: BadInput[] = [
  {
    name: "bad version",
    send: (peer) => {
      const frame = encodeHeader(FrameType.Ping, Flag.SYN, 0, 1);
      frame[0] = 1;
      return peer.send(frame);
    },
  },
  { name: "unknown type", send: (peer) => peer.send(encodeHeader(4, 0, 0, 0)) },
  { name: "data for a never-opened stream", send: (peer) => peer.send(data(5, 10)) },
  { name: "window update for a never-opened stream", send: (peer) => peer.sendFrame(1, 0, 7, 9) },
  { name: "data on stream 0", send: (peer) => peer.send(data(0, 1)) },
  {
    name: "data beyond the receive window in one frame",
    send: (peer) => peer.send(syn(1), data(1, INITIAL_STREAM_WINDOW + 1)),
  },
  {
    name: "data beyond the receive window over several frames",
    send: (peer) => peer.send(syn(1), data(1, INITIAL_STREAM_WINDOW - 10), data(1, 11)),
  },
  {
    name: "window increment overflowing 32 bits",
    send: async (peer) => {
      await peer.send(syn(1));
      await peer.sendFrame(FrameType.WindowUpdate, 0, 1, 0xffffffff);
    },
  },
  { name: "duplicate SYN", send: (peer) => peer.send(syn(1), syn(1)) },
  { name: "SYN with the server's parity", send: (peer) => peer.send(syn(2)) },
  { name: "SYN on stream 0", send: (peer) => peer.send(syn(0)) },
  {
    name: "duplicate FIN",
    send: (peer) =>
      peer.send(syn(1), encodeHeader(FrameType.WindowUpdate, Flag.FIN, 1, 0), data(1, 0, Flag.FIN)),
  },
  {
    name: "data after FIN",
    send: (peer) => peer.send(syn(1), data(1, 3, Flag.FIN), data(1, 3)),
  },
  { name: "unknown Go Away code", send: (peer) => peer.sendFrame(FrameType.GoAway, 0, 0, 9) },
  {
    name: "truncated header at EOF",
    send: async (peer) => {
      await peer.send(encodeHeader(FrameType.Ping, Flag.SYN, 0, 1).subarray(0, 7));
      await peer.end();
    },
  },
  {
    name: "truncated payload at EOF",
    send: async (peer) => {
      await peer.send(syn(1), data(1, 100).subarray(0, 50));
      await peer.end();
    },
  },
];

for (const input of badInputs) {
  Deno.test(`malformed input ends the session with Go Away protocol error: ${input.name}`, async () => {
    const peer = new RawPeer("server");
    try {
      const pendingAccept = peer.session.accept().catch((error) => error);
      await input.send(peer);
      assert.equal(await peer.goAwayCode(), GoAwayCode.ProtocolError);
      await peer.session.closed;
      assert.ok(peer.session.closeReason instanceof YamuxProtocolError);
      const acceptResult = await pendingAccept;
      // Streams that made it into the backlog are handed out or the accept fails; never a hang.
      assert.ok(acceptResult instanceof Error || typeof acceptResult?.id === "number");
    } finally {
      await peer.close();
    }
  });
}

Deno.test("late frames for a forgotten stream are dropped quietly", async () => {
  const peer = new RawPeer("server");
  try {
    await peer.send(syn(1));
    const stream = await peer.session.accept();
    stream.reset();
    await stream.closed;
    // In flight before our RST reached the peer: data, window updates, a FIN.
    await peer.send(data(1, 1000), data(1, 10, Flag.FIN));
    await peer.sendFrame(FrameType.WindowUpdate, Flag.ACK, 1, 5000);
    await peer.sendFrame(FrameType.WindowUpdate, Flag.RST, 1, 0);
    // A stream of ours that finished both ways, then gets a window update.
    const ours = await peer.session.open();
    await peer.sendFrame(FrameType.WindowUpdate, Flag.ACK | Flag.FIN, ours.id, 0);
    await ours.closeWrite();
    await ours.closed;
    await peer.sendFrame(FrameType.WindowUpdate, 0, ours.id, 1234);
    // Pings: unflagged ones and ones with a stream id are not errors either.
    await peer.sendFrame(FrameType.Ping, 0, 0, 1);
    await peer.sendFrame(FrameType.Ping, Flag.SYN, 0, 42);
    const pong = await peer.waitFrame((f) => f.header.type === FrameType.Ping);
    assert.equal(pong.header.flags, Flag.ACK);
    assert.equal(pong.header.length, 42);
    assert.equal(peer.session.isClosed, false);
  } finally {
    await peer.close();
  }
});

Deno.test("a local Go Away refuses new streams with RST", async () => {
  const peer = new RawPeer("server");
  try {
    peer.session.goAway();
    assert.equal(await peer.goAwayCode(), GoAwayCode.Normal);
    await peer.send(syn(1), data(1, 5));
    const reset = await peer.waitFrame((f) => f.header.streamId === 1);
    assert.equal(reset.header.flags, Flag.RST);
    assert.equal(peer.session.numStreams, 0);
    assert.equal(peer.session.isClosed, false);
  } finally {
    await peer.close();
  }
});

Deno.test("the receiver holds exactly its window and no more", async () => {
  const peer = new RawPeer("server");
  try {
    await peer.send(syn(1), data(1, INITIAL_STREAM_WINDOW - 1), data(1, 1, Flag.FIN));
    const stream = await peer.session.accept();
    assert.equal(stream.stats.bufferedBytes, INITIAL_STREAM_WINDOW);
    assert.equal(stream.stats.receiveWindow, 0);
    assert.equal((await readText(stream.readable)).length, INITIAL_STREAM_WINDOW);
    assert.equal(stream.stats.bufferedBytes, 0);
  } finally {
    await peer.close();
  }
});

Deno.test("an internal failure sends Go Away internal error, and a throwing logger is harmless", async () => {
  // A transport that hands the session something that is not bytes trips an internal error.
  const [ours, theirs] = memoryPipe();
  const session = YamuxSession.server({
    readable: new ReadableStream({
      start: (controller) => controller.enqueue({ length: 5 } as unknown as Uint8Array),
    }),
    writable: theirs.writable,
    close: theirs.close,
  }, {
    logger: () => {
      throw new Error("logger exploded");
    },
  });
  const frames: FrameHeader[] = [];
  const parser = new FrameParser({
    onHeader: (header) => frames.push(header),
    onPayload: () => {},
    onFrameEnd: () => {},
  });
  await session.closed;
  assert.match(String(session.closeReason), /internal error/);
  for await (const chunk of ours.readable) parser.push(chunk);
  assert.deepEqual(frames.map((f) => [f.type, f.length]), [[
    FrameType.GoAway,
    GoAwayCode.InternalError,
  ]]);
});
