/**
 * Startup benchmark: time from spawning `serve` to its `SERVING` line, and
 * the idle RSS of the server afterwards. Best of several runs.
 *
 * @module
 */
import { startTestServer } from "../helpers/server.ts";

/** One measured run. */
export interface StartupSample {
  secondsToServing: number;
  idleRssMiB: number;
}

/** Starts and stops the server `runs` times. */
export async function measureStartup(runs = 5): Promise<StartupSample[]> {
  const samples: StartupSample[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const server = await startTestServer();
    const secondsToServing = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const idleRssMiB = await rssMiB(server.process.pid);
    await server.stop();
    samples.push({ secondsToServing, idleRssMiB });
  }
  return samples;
}

/** Resident set size of a process in MiB, from /proc. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}
