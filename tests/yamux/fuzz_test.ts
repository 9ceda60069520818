/**
 * Throws random, plausible and mutated frame sequences, split at random
 * points, at sessions in both roles. Every run must end cleanly: no uncaught
 * error, the session closes once the input ends, accepted streams settle and
 * no stream ever buffers more than its window. The PRNG is seeded, so a
 * failure reproduces with the printed seed (YAMUX_FUZZ_SEED overrides it).
 */

import assert from "node:assert/strict";
import {
  Flag,
  FrameType,
  INITIAL_STREAM_WINDOW,
  YamuxProtocolError,
} from "../../src/yamux/const.ts";
import { encodeFrame } from "../../src/yamux/frame.ts";
import type { YamuxStream } from "../../src/yamux/stream.ts";
import { concat, RawPeer, seededRandom } from "./helpers.ts";

const SEED = Number(Deno.env.get("YAMUX_FUZZ_SEED") ?? 0x5eed);
const RUNS = 200;
const FRAMES_PER_RUN = 100;

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)];
const int = (random: Random, below: number) => Math.floor(random() * below);

/** What the scripted peer remembers about one stream. */
interface StreamModel {
  sent: number;
  finished: boolean;
  granted: number;
}

/**
 * Generates a conversation a correct peer could have with the session:
 * opens streams (SYN on Window Update or Data), sends data within the
 * initial window, grants window, half-closes, resets, pings, says Go Away.
 * Any flag a frame may legally carry shows up on it.
 */
class ConversationModel {
  readonly #random: Random;
  readonly #streams = new Map<number, StreamModel>();
  #nextId: number;

  constructor(random: Random, role: "client" | "server", sessionOpened: number[]) {
    this.#random = random;
    this.#nextId = role === "server" ? 1 : 2;
    for (const id of sessionOpened) this.#streams.set(id, { sent: 0, finished: false, granted: 0 });
  }

  frame(): Uint8Array {
    const random = this.#random;
    const live = [...this.#streams].filter(([, model]) => !model.finished);
    const roll = random();
    if (roll < 0.12 || live.length === 0) return this.#open();
    const [id, model] = pick(random, live);
    if (roll < 0.6) return this.#data(id, model);
    if (roll < 0.72) return this.#grant(id, model);
    if (roll < 0.8) return this.#finish(id, model, Flag.FIN);
    if (roll < 0.85) return this.#finish(id, model, Flag.RST);
    if (roll < 0.98) {
      const flags = pick(random, [Flag.SYN, Flag.ACK, 0]);
      return encodeFrame({
        type: FrameType.Ping,
        flags,
        streamId: 0,
        length: int(random, 1 << 30),
      });
    }
    return encodeFrame({ type: FrameType.GoAway, flags: 0, streamId: 0, length: 0 });
  }

  #open(): Uint8Array {
    const id = this.#nextId;
    this.#nextId += 2;
    const model = { sent: 0, finished: false, granted: 0 };
    this.#streams.set(id, model);
    if (this.#random() < 0.5) {
      return encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: id });
    }
    const size = int(this.#random, 500);
    model.sent = size;
    return encodeFrame(
      { type: FrameType.Data, flags: Flag.SYN, streamId: id },
      new Uint8Array(size),
    );
  }

  #data(id: number, model: StreamModel): Uint8Array {
    const room = INITIAL_STREAM_WINDOW - model.sent;
    const size = Math.min(
      room,
      this.#random() < 0.9 ? int(this.#random, 3000) : int(this.#random, room + 1),
    );
    model.sent += size;
    let flags = pick(this.#random, [0, 0, 0, Flag.ACK, Flag.FIN]);
    if (flags & Flag.FIN) model.finished = true;
    if (size === 0 && this.#random() < 0.5) flags = 0;
    return encodeFrame({ type: FrameType.Data, flags, streamId: id }, new Uint8Array(size));
  }

  #grant(id: number, model: StreamModel): Uint8Array {
    const increment = Math.min(int(this.#random, 1 << 20), 0x4000_0000 - model.granted);
    model.granted += increment;
    const flags = pick(this.#random, [0, Flag.ACK]);
    return encodeFrame({ type: FrameType.WindowUpdate, flags, streamId: id, length: increment });
  }

  #finish(id: number, model: StreamModel, flag: number): Uint8Array {
    model.finished = true;
    return encodeFrame({ type: FrameType.WindowUpdate, flags: flag, streamId: id });
  }
}

/** Breaks one frame: flipped header bytes, a cut, or garbage in its place. */
function mutate(random: Random, frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  switch (int(random, 4)) {
    case 0:
      for (let i = int(random, 3); i >= 0; i--) {
        out[int(random, Math.min(out.length, 12))] = int(random, 256);
      }
      return out;
    case 1:
      return out.subarray(0, int(random, out.length));
    case 2: {
      // A header claiming a random stream or length.
      if (out.length < 12) return out;
      const view = new DataView(out.buffer, out.byteOffset);
      view.setUint32(4 + 4 * int(random, 2), int(random, 0x1_0000_0000));
      return out;
    }
    default:
      return Uint8Array.from({ length: int(random, 40) }, () => int(random, 256));
  }
}

/** One run's frames; `mutations` of them are broken on purpose. */
function generateFrames(
  random: Random,
  role: "client" | "server",
  sessionOpened: number[],
  mutations: number,
): Uint8Array[] {
  const model = new ConversationModel(random, role, sessionOpened);
  const frames = Array.from({ length: FRAMES_PER_RUN }, () => model.frame());
  for (let i = 0; i < mutations; i++) {
    const at = int(random, frames.length);
    frames[at] = mutate(random, frames[at]);
  }
  return frames;
}

/** Splits `bytes` into random-sized chunks (sometimes single bytes, sometimes huge). */
function randomSplit(random: Random, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const size = 1 + (random() < 0.3 ? int(random, 13) : int(random, 70_000));
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Accepts streams and uses them the way applications do, chosen at random. */
async function exercise(peer: RawPeer, random: Random, accepted: YamuxStream[]): Promise<void> {
  for await (const stream of peer.session) {
    accepted.push(stream);
    const action = int(random, 4);
    if (action === 0) stream.reset();
    if (action === 1) stream.readable.pipeTo(stream.writable).catch(() => {});
    if (action === 2) stream.readable.cancel().catch(() => {});
    if (action === 3) stream.closeWrite().catch(() => {});
  }
}

Deno.test(`fuzz: ${RUNS * FRAMES_PER_RUN} generated and mutated frames (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const ends = { protocolError: 0, other: 0 };
  for (let run = 0; run < RUNS; run++) {
    const role = run % 2 === 0 ? "server" : "client";
    const maxStreamWindowSize = pick(random, [INITIAL_STREAM_WINDOW, 1 << 20]);
    const peer = new RawPeer(role, { maxStreamWindowSize });
    const accepted: YamuxStream[] = [];
    const using = exercise(peer, random, accepted);
    const sessionOpened = random() < 0.5 ? [(await peer.session.open()).id] : [];
    if (random() < 0.3) peer.session.ping().catch(() => {});
    // Half the runs are valid conversations; the rest carry one to three broken frames.
    const mutations = run % 4 < 2 ? 0 : 1 + int(random, 3);
    const frames = generateFrames(random, role, sessionOpened, mutations);
    try {
      for (const chunk of randomSplit(random, concat(frames))) {
        if (peer.session.isClosed) break;
        await peer.send(chunk);
      }
    } catch {
      // The session closed the pipe on us: that is a legitimate end.
    }
    await peer.end();
    await peer.session.closed;
    await using;
    await Promise.all(accepted.map((stream) => stream.closed));
    for (const stream of accepted) {
      assert.ok(stream.stats.maxBufferedBytes <= maxStreamWindowSize);
    }
    const protocolError = peer.session.closeReason instanceof YamuxProtocolError;
    if (mutations === 0) {
      // Only the end of input may end a valid conversation: every frame was understood.
      assert.match(String(peer.session.closeReason), /closed by peer/, `valid run ${run}`);
    }
    if (protocolError) ends.protocolError++;
    else ends.other++;
    await peer.close();
  }
  // Broken input must actually be caught, or the generator tests nothing.
  assert.ok(ends.protocolError > RUNS / 8, JSON.stringify(ends));
  console.log(`fuzz outcomes: ${JSON.stringify(ends)}`);
});

Deno.test("fuzz: a long valid conversation split at random points is understood", async () => {
  const random = seededRandom(SEED + 1);
  const peer = new RawPeer("server");
  try {
    const frames: Uint8Array[] = [];
    const expected = new Map<number, number>();
    for (let id = 1; id <= 41; id += 2) {
      frames.push(encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.SYN, streamId: id }));
      let total = 0;
      for (let i = int(random, 5); i >= 0; i--) {
        const size = int(random, 3000);
        frames.push(
          encodeFrame(
            { type: FrameType.Data, flags: 0, streamId: id },
            new Uint8Array(size).fill(id),
          ),
        );
        total += size;
      }
      frames.push(encodeFrame({ type: FrameType.Ping, flags: Flag.SYN, streamId: 0, length: id }));
      frames.push(encodeFrame({ type: FrameType.WindowUpdate, flags: Flag.FIN, streamId: id }));
      expected.set(id, total);
    }
    for (const chunk of randomSplit(random, concat(frames))) await peer.send(chunk);
    for (const [id, total] of expected) {
      const stream = await peer.session.accept();
      assert.equal(stream.id, id);
      let received = 0;
      for await (const chunk of stream.readable) {
        assert.ok(chunk.every((byte) => byte === id));
        received += chunk.length;
      }
      assert.equal(received, total);
    }
    await peer.waitFrame((f) => f.header.type === FrameType.Ping && f.header.length === 41);
    assert.equal(peer.session.isClosed, false);
  } finally {
    await peer.close();
  }
});
