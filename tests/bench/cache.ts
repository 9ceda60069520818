/**
 * The pack-objects cache beside the reference Gitaly 16.7: 20 identical
 * full clones of the ~100 MiB benchmark repository at once, through
 * PostUploadPackWithSidechannel with Gitaly's Go client, against servers
 * with `[pack_objects_cache]` on and off. Prints the wall time until the
 * last clone finished, ours beside the reference, and how many times each
 * server ran pack-objects (ours: the cache's misses; the reference: its
 * calls logging `pack_objects_cache.generated_bytes`). One clone of the
 * same key goes first, alone and unmeasured: with Gitaly's default
 * `min_occurrences = 1` a key is cached from its second fetch on.
 *
 * @module
 */
import { join } from "node:path";
import { cachedLargeRepo, copyRepo, listRefs } from "../helpers/gitrepo.ts";
import { GO, goBinary } from "../helpers/go.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { goFetch, REPO_KEY, REPO_OPTIONS, uploadPackRequest } from "./fetch.ts";
import {
  processCpuSeconds,
  referenceAvailable,
  type ReferenceGitaly,
  startReference,
} from "../helpers/reference.ts";

const CLONES = Number(Deno.env.get("BENCH_CACHE_CLONES") ?? 20);
const MIB = 1024 * 1024;

/** One measured round. */
interface Round {
  seconds: number;
  bytes: number;
  packObjectsRuns: number;
  /** The server process's own CPU seconds (its children left out). */
  cpuSeconds: number;
}

/** Prints the section. */
export async function cacheSection(): Promise<void> {
  if (!GO) {
    console.log("\n## Pack-objects cache: skipped (needs go for Gitaly's Go client)\n");
    return;
  }
  const client = await goBinary("sidechannel");
  const source = await cachedLargeRepo(REPO_KEY, REPO_OPTIONS);
  const request = uploadPackRequest([...new Set(Object.values(await listRefs(source)))], []);
  const withReference = await referenceAvailable();
  const rows: string[] = [];
  for (const enabled of [true, false]) {
    const toml = `[pack_objects_cache]\nenabled = ${enabled}\n`;
    const ours = await startTestServer({
      ownSession: true,
      extraToml: `prometheus_listen_addr = "127.0.0.1:0"\n${toml}`,
    });
    const reference = withReference ? await startReference({ extraToml: toml }) : undefined;
    try {
      await copyRepo(source, join(ours.storagePaths.default, "bench.git"));
      if (reference) await copyRepo(source, join(reference.storagePath, "bench.git"));
      const ourRound = await clones(
        client,
        ours.unixAddress,
        request,
        () => ourRuns(ours, enabled),
        ours.process.pid,
      );
      const refRound = reference
        ? await clones(
          client,
          reference.address,
          request,
          () => referenceRuns(reference, enabled),
          reference.pid,
        )
        : undefined;
      const cells = [
        `${CLONES} identical clones, cache ${enabled ? "on" : "off"}`,
        (ourRound.bytes / MIB).toFixed(0),
        ourRound.seconds.toFixed(2),
        refRound ? refRound.seconds.toFixed(2) : "–",
        refRound ? (refRound.seconds / ourRound.seconds).toFixed(2) : "–",
        String(ourRound.packObjectsRuns),
        refRound ? String(refRound.packObjectsRuns) : "–",
        ourRound.cpuSeconds.toFixed(2),
        refRound ? refRound.cpuSeconds.toFixed(2) : "–",
      ];
      rows.push(`| ${cells.join(" | ")} |`);
    } finally {
      await ours.stop("SIGKILL");
      await reference?.stop();
    }
  }
  console.log(`\n## Pack-objects cache, ${CLONES} identical concurrent clones\n`);
  if (!withReference) console.log("(reference Gitaly not installed: ours only)\n");
  console.log(
    "| case | MiB served | ours s | reference s | ours speed/reference | ours pack-objects runs | reference pack-objects runs | ours server CPU s | reference server CPU s |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) console.log(row);
}

/** Runs the clones at once; the time until the last one finished. */
async function clones(
  client: string,
  address: string,
  request: Uint8Array,
  runs: () => Promise<number>,
  pid: number,
): Promise<Round> {
  await fetchOnce(client, address, request); // the key's first occurrence
  const runsBefore = await runs();
  const cpuBefore = await processCpuSeconds(pid);
  const started = performance.now();
  const sizes = await Promise.all(
    Array.from({ length: CLONES }, () => fetchOnce(client, address, request)),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (await processCpuSeconds(pid)) - cpuBefore;
  return {
    seconds,
    cpuSeconds,
    bytes: sizes.reduce((a, b) => a + b, 0),
    packObjectsRuns: Number.isNaN(runsBefore) ? CLONES : (await runs()) - runsBefore,
  };
}

/** One full clone with the Go client; resolves with the bytes it got. */
async function fetchOnce(client: string, address: string, request: Uint8Array): Promise<number> {
  const { bytes } = await goFetch(
    client,
    "post-upload-pack-sidechannel",
    address,
    "bench.git",
    request,
  )
    .catch((error) => {
      throw new Error(`clone from ${address}: ${error.message}`);
    });
  return bytes;
}

/** Pack-objects runs so far; NaN with the cache off, where each clone runs its own. */
async function ourRuns(server: TestServer, enabled: boolean): Promise<number> {
  if (!enabled) return NaN;
  const text = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith('gitaly_pack_objects_cache_lookups_total{result="miss"} ')
  );
  return Number(line?.split(" ")[1] ?? 0);
}

async function referenceRuns(reference: ReferenceGitaly, enabled: boolean): Promise<number> {
  const log = await Deno.readTextFile(join(reference.dir, "gitaly.log"));
  // Gitaly logs the bytes a call generated on the call's own line, when it ran pack-objects.
  const runs = log.split("\n").filter((l) => l.includes('"pack_objects_cache.generated_bytes"'));
  return runs.length || (enabled ? 0 : NaN);
}
