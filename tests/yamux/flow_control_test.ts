import assert from "node:assert/strict";
import { DEFAULT_CONFIG, INITIAL_STREAM_WINDOW } from "../../src/yamux/const.ts";
import { checkPattern, eventually, memoryPair, unixPair, writePattern } from "./helpers.ts";

const MiB = 1024 * 1024;
const TOTAL = 50 * MiB;
/** Bytes a memory pipe or a Unix socket may hold between the two sessions (generous). */
const CONNECTION_SLACK = 4 * MiB;

for (const maxWindow of [INITIAL_STREAM_WINDOW, 16 * MiB]) {
  for (const kind of ["memory", "unix"] as const) {
    Deno.test(`50 MiB to a slow reader over ${kind}, max window ${maxWindow / 1024} KiB`, async () => {
      const pair = kind === "memory"
        ? memoryPair({ maxStreamWindowSize: maxWindow })
        : await unixPair({ maxStreamWindowSize: maxWindow });
      try {
        const sending = await pair.client.open();
        const receiving = await pair.server.accept();
        let written = 0;
        let read = 0;
        let worstInFlight = 0;
        const writer = writePattern(
          new WritableStream({
            write: async (chunk) => {
              const inner = sending.writable.getWriter();
              try {
                await inner.write(chunk);
              } finally {
                inner.releaseLock();
              }
              written += chunk.length;
              worstInFlight = Math.max(worstInFlight, written - read);
            },
            close: () => sending.closeWrite(),
          }),
          TOTAL,
        );

        // Let the sender run ahead until the receive window is full: this is where it must stop.
        await eventually(
          () => receiving.stats.bufferedBytes === maxWindow,
          "the receive window to fill up",
        );
        assert.equal(receiving.stats.receiveWindow, 0);

        let chunks = 0;
        const check = await checkPattern(receiving.readable, async (chunk) => {
          read += chunk.length;
          assert.ok(receiving.stats.bufferedBytes <= maxWindow);
          // Read slowly: yield to the timer queue every few chunks.
          if (++chunks % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        });
        await writer;
        assert.deepEqual(check, { count: TOTAL, ok: true });
        assert.equal(receiving.stats.maxBufferedBytes, maxWindow);
        assert.ok(
          worstInFlight <= maxWindow + DEFAULT_CONFIG.sendBufferSize + CONNECTION_SLACK,
          `writer ran ${worstInFlight} bytes ahead of the reader`,
        );
        await receiving.closeWrite();
        await Promise.all([sending.closed, receiving.closed]);
      } finally {
        await pair.close();
      }
    });
  }
}
