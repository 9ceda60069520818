/**
 * Measures 100 MiB single-stream transfers over a Unix socket: between two
 * of our sessions, and between ours and hashicorp/yamux (when `go` is
 * available). Best of several interleaved rounds; not part of the test suite.
 *
 *   deno run -A tests/yamux/throughput_bench.ts [rounds]
 *
 * @module
 */

import { GO, goBinary } from "../helpers/go.ts";
import { type GoPeer, startGoPeer } from "../interop/yamux/peer.ts";
import { readText, unixPair, writePattern, writeText } from "./helpers.ts";
import type { YamuxStream } from "../../src/yamux/stream.ts";

const MiB = 1024 * 1024;
const TOTAL = 100 * MiB;
const ROUNDS = Number(Deno.args[0] ?? 3);
const WINDOWS = [256 * 1024, 16 * MiB];

/** Writes TOTAL bytes in 1 MiB chunks. */
async function send(stream: YamuxStream): Promise<void> {
  await writePattern(stream.writable, TOTAL, { chunkSize: MiB });
}

/** Reads a stream to its end and returns the byte count. */
async function drain(stream: YamuxStream): Promise<number> {
  let count = 0;
  for await (const chunk of stream.readable) count += chunk.length;
  return count;
}

async function oursToOurs(window: number): Promise<number> {
  const pair = await unixPair({ maxStreamWindowSize: window });
  try {
    const started = performance.now();
    const stream = await pair.client.open();
    const sending = send(stream);
    const count = await drain(await pair.server.accept());
    await sending;
    if (count !== TOTAL) throw new Error(`got ${count} bytes`);
    return performance.now() - started;
  } finally {
    await pair.close();
  }
}

async function goToOurs(peer: GoPeer): Promise<number> {
  const started = performance.now();
  const stream = await peer.session.open();
  await writeText(stream.writable, `source ${TOTAL}\n`);
  const count = await drain(stream);
  if (count !== TOTAL) throw new Error(`got ${count} bytes`);
  return performance.now() - started;
}

async function oursToGo(peer: GoPeer): Promise<number> {
  const started = performance.now();
  const stream = await peer.session.open();
  await writeText(stream.writable, "sink\n", true);
  await send(stream);
  const answer = await readText(stream.readable);
  if (answer !== `${TOTAL} ok\n`) throw new Error(`Go answered ${answer}`);
  return performance.now() - started;
}

function rate(ms: number): string {
  return `${(TOTAL / MiB / (ms / 1000)).toFixed(0)} MiB/s (${ms.toFixed(0)} ms)`;
}

const best = new Map<string, number>();
function record(name: string, ms: number): void {
  best.set(name, Math.min(best.get(name) ?? Infinity, ms));
}

const binary = GO ? await goBinary("yamux") : undefined;
for (let round = 0; round < ROUNDS; round++) {
  for (const window of WINDOWS) {
    const label = `${window / 1024} KiB window`;
    record(`ours → ours, ${label}`, await oursToOurs(window));
    if (!binary) continue;
    for (const goRole of ["server", "client"] as const) {
      const peer = await startGoPeer(binary, goRole, { maxStreamWindowSize: window }, {
        maxWindow: window,
      });
      try {
        record(`hashicorp (${goRole}) → ours, ${label}`, await goToOurs(peer));
        record(`ours → hashicorp (${goRole}), ${label}`, await oursToGo(peer));
      } finally {
        await peer.stop();
      }
    }
  }
}
for (const [name, ms] of best) console.log(`${name.padEnd(46)} ${rate(ms)}`);
if (!binary) console.log("(go not found: hashicorp/yamux rows skipped)");
