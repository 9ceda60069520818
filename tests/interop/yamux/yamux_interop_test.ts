/**
 * Holds our Yamux to hashicorp/yamux: the Go peer in this directory plays
 * server or client over a Unix socket and we play the other role. Skips when
 * `go` cannot be found.
 *
 * @module
 */

import assert from "node:assert/strict";
import { INITIAL_STREAM_WINDOW, StreamResetError } from "../../../src/yamux/const.ts";
import {
  checkPattern,
  eventually,
  readText,
  writePattern,
  writeText,
} from "../../yamux/helpers.ts";
import { GO, goBinary } from "../../helpers/go.ts";
import { type GoRole, startGoPeer } from "./peer.ts";

const MiB = 1024 * 1024;
/** Gitaly's server-side session lets stream windows grow to 16 MiB. */
const OUR_CONFIG = { maxStreamWindowSize: 16 * MiB };

if (GO === undefined) {
  console.warn(
    "yamux_interop_test: `go` is not on PATH; skipping the hashicorp/yamux interop test",
  );
}

for (const goRole of ["server", "client"] as GoRole[]) {
  Deno.test({
    name: `hashicorp/yamux as ${goRole}: data, concurrency, half-close, reset, ping, go away`,
    ignore: GO === undefined,
    async fn(t) {
      const binary = await goBinary("yamux");
      const peer = await startGoPeer(binary, goRole, OUR_CONFIG);
      const { session } = peer;
      try {
        await t.step("data both ways on streams we open", async () => {
          const echo = await session.open();
          const echoed = checkPattern(echo.readable);
          await writeText(echo.writable, "echo\n", true);
          await writePattern(echo.writable, 3 * MiB + 5);
          assert.deepEqual(await echoed, { count: 3 * MiB + 5, ok: true });

          const source = await session.open();
          await writeText(source.writable, `source ${2 * MiB}\n`);
          assert.deepEqual(await checkPattern(source.readable), { count: 2 * MiB, ok: true });
        });

        await t.step("data both ways on streams the Go side opens", async () => {
          assert.equal(await peer.command(`open echo 1 ${3 * MiB}`), "ok");
          assert.equal(await peer.command(`open source 1 ${2 * MiB}`), "ok");
          assert.equal(await peer.command(`open sink 1 ${2 * MiB}`), "ok");
        });

        await t.step("100 concurrent streams each way", async () => {
          const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
            const stream = await session.open();
            const size = 32 * 1024 + i * 1111;
            const echoed = checkPattern(stream.readable);
            await writeText(stream.writable, "echo\n", true);
            await writePattern(stream.writable, size, { chunkSize: 7000 + i });
            return { ...(await echoed), size };
          }));
          for (const { count, ok, size } of results) {
            assert.deepEqual({ count, ok }, { count: size, ok: true });
          }
          assert.equal(await peer.command(`open echo 100 ${64 * 1024}`), "ok");
        });

        await t.step("half-close: each side keeps going after the other's FIN", async () => {
          // We FIN first; Go reads to EOF and only then answers.
          const sink = await session.open();
          await writeText(sink.writable, "sink\n", true);
          await writePattern(sink.writable, MiB);
          assert.equal(await readText(sink.readable), `${MiB} ok\n`);
          // Go FINs first (after its request); we read to EOF and only then answer.
          assert.equal(await peer.command(`open sink 3 ${MiB}`), "ok");
          assert.equal(await peer.command(`open source 3 ${MiB}`), "ok");
        });

        await t.step("reset in both directions", async () => {
          const doomed = await session.open();
          const reader = doomed.readable.getReader();
          await writeText(doomed.writable, "expect-reset\n", true);
          assert.equal(new TextDecoder().decode((await reader.read()).value), "ready\n");
          await writePattern(doomed.writable, 100_000, { keepOpen: true });
          doomed.reset();
          assert.equal(await peer.command("result"), "reset");
          await assert.rejects(reader.read(), StreamResetError);
          assert.equal(await peer.command("open reset 5 0"), "ok");
        });

        await t.step("ping in both directions", async () => {
          const rtt = await session.ping();
          assert.ok(rtt >= 0);
          assert.equal(await peer.command("ping"), "ok");
        });

        await t.step("no streams left open on either side", async () => {
          // The stats stream itself is the only one Go still has.
          await eventually(() => session.numStreams === 0, "our streams to close");
          assert.equal(await peer.command("stats"), "1");
        });

        await t.step("go away: the Go side can no longer open streams", async () => {
          session.goAway();
          assert.match(await peer.command("open echo 1 10"), /not accepting connections/);
        });
      } finally {
        const stderr = await peer.stop();
        assert.doesNotMatch(stderr, /\[ERR\]/, stderr);
      }
    },
  });

  Deno.test({
    name: `hashicorp/yamux as ${goRole}: windows grow past 256 KiB under a slow reader`,
    ignore: GO === undefined,
    async fn(t) {
      const binary = await goBinary("yamux");
      for (const goWindow of [INITIAL_STREAM_WINDOW, 16 * MiB]) {
        await t.step(`Go MaxStreamWindowSize ${goWindow / 1024} KiB`, async () => {
          const peer = await startGoPeer(binary, goRole, OUR_CONFIG, { maxWindow: goWindow });
          const { session } = peer;
          try {
            // Go → us: hold off reading until Go has filled our whole 16 MiB window.
            const total = 40 * MiB;
            const source = await session.open();
            await writeText(source.writable, `source ${total}\n`);
            await eventually(
              () => source.stats.bufferedBytes === OUR_CONFIG.maxStreamWindowSize,
              "Go to fill our receive window",
            );
            let chunks = 0;
            const received = await checkPattern(source.readable, async () => {
              if (++chunks % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
            });
            assert.deepEqual(received, { count: total, ok: true });
            assert.equal(source.stats.maxBufferedBytes, OUR_CONFIG.maxStreamWindowSize);

            // Us → Go: Go's ACK grants its extra window, so ours grows exactly as far as Go allows.
            const sink = await session.open();
            await writeText(sink.writable, "sink\n", true);
            await eventually(
              () => sink.stats.sendWindow === goWindow - "sink\n".length,
              "Go's ACK to grant its window",
            );
            let widest = 0;
            await writePattern(
              new WritableStream({
                write: async (chunk) => {
                  widest = Math.max(widest, sink.stats.sendWindow);
                  const writer = sink.writable.getWriter();
                  await writer.write(chunk).finally(() => writer.releaseLock());
                },
                close: () => sink.closeWrite(),
              }),
              total,
            );
            assert.equal(await readText(sink.readable), `${total} ok\n`);
            assert.ok(widest <= goWindow, `send window ${widest} beyond Go's ${goWindow}`);
            assert.ok(widest > goWindow / 2, `send window never grew (${widest})`);
            if (goWindow > INITIAL_STREAM_WINDOW) {
              assert.equal(await peer.command(`open source 1 ${total}`), "ok");
            }
          } finally {
            await peer.stop();
          }
        });
      }
    },
  });
}

Deno.test({
  name: "hashicorp/yamux close timeout resets a stream we never finish",
  ignore: GO === undefined,
  async fn() {
    const binary = await goBinary("yamux");
    const peer = await startGoPeer(binary, "server", OUR_CONFIG, { closeTimeout: "50ms" });
    try {
      // Go sends everything and closes; we never FIN, so Go resets after its timeout.
      const stream = await peer.session.open();
      await writeText(stream.writable, "source 10\n", true);
      // Whether our reader sees the FIN or the RST first, the stream must end.
      await checkPattern(stream.readable).catch((error) => {
        assert.ok(error instanceof StreamResetError, String(error));
      });
      await stream.closed;
      assert.equal(peer.session.numStreams, 0);
    } finally {
      await peer.stop();
    }
  },
});
