/**
 * BlobService benchmark, ours beside the reference Gitaly (when it is
 * there), each on its own copy of the same repositories: GetBlob of a small
 * blob (requests per second at concurrency 1 and 32 over one connection),
 * GetBlob of a 100 MiB blob (MiB/s and the growth of the server's RSS), and
 * ListAllLFSPointers over a ~50 MiB repository (10,000 small blobs, 2,000 of
 * them LFS pointers, plus large random blobs).
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { methodCodec } from "../../src/client/services.ts";
import { serverStreamCall } from "../../src/client/stream_calls.ts";
import { serviceInfo } from "../../src/proto/mod.ts";
import {
  copyRepo,
  FastImportStream,
  gitOk,
  initBareRepo,
  PseudoRandom,
} from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";
import { referenceAvailable, REFGITALY_PATH } from "../differential/harness.ts";
import { RssSampler } from "./sidechannel.ts";

const encoder = new TextEncoder();
const REF_DIR = "/tmp/ref-blobbench";
const SMALL_CALLS = 3000;
const LARGE_RUNS = 3;
const LFS_RUNS = 5;

/** One server under test: its address, its storage and the pid whose RSS counts. */
interface Side {
  name: "ours" | "reference";
  address: string;
  storage: string;
  pid: () => Promise<number>;
  stop: () => Promise<void>;
}

/** The repositories, generated once and cached like the transport bench's. */
async function cachedRepo(key: string, build: (path: string) => Promise<void>): Promise<string> {
  const root = join(Deno.env.get("TMPDIR") ?? "/tmp", "deno-gitaly-cache");
  const path = join(root, `${key}.git`);
  if (await Deno.stat(join(path, "COMPLETE")).then(() => true, () => false)) return path;
  await Deno.mkdir(root, { recursive: true });
  const staging = await Deno.makeTempDir({ dir: root, prefix: `${key}.building-` });
  try {
    await build(join(staging, "repo.git"));
    await Deno.writeTextFile(join(staging, "repo.git", "COMPLETE"), "ok\n");
    await Deno.rename(join(staging, "repo.git"), path);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return path;
}

/** A small README and one 100 MiB incompressible blob. */
function largeBlobRepo(): Promise<string> {
  return cachedRepo("bench-blobs-large-v1", async (path) => {
    await initBareRepo(path);
    const stream = new FastImportStream();
    const writer = stream.pipeTo(path);
    const readme = stream.blob(
      encoder.encode("# A small blob\n\nfor GetBlob requests per second\n"),
    );
    const large = stream.blob(new PseudoRandom(3).bytes(100 * 1024 * 1024));
    stream.commit("refs/heads/main", "blobs", undefined, [["README.md", readme], [
      "large.bin",
      large,
    ]]);
    await stream.flushTo(writer);
    await writer.finish();
  });
}

/** ~50 MiB: 10,000 small text blobs (every fifth an LFS pointer) and 48 MiB of random blobs. */
function lfsRepo(): Promise<string> {
  return cachedRepo("bench-blobs-lfs-v1", async (path) => {
    await initBareRepo(path);
    const stream = new FastImportStream();
    const writer = stream.pipeTo(path);
    const random = new PseudoRandom(5);
    let tip: number | undefined;
    for (let batch = 0; batch < 10; batch++) {
      const files: [string, number][] = [];
      for (let i = 0; i < 1000; i++) {
        const n = batch * 1000 + i;
        const text = n % 5 === 0
          ? `version https://git-lfs.github.com/spec/v1\noid sha256:${
            n.toString(16).padStart(64, "0")
          }\nsize ${n * 17}\n`
          : `file ${n}\n${"text ".repeat(n % 30)}\n`;
        files.push([`small/${batch}/${i}.txt`, stream.blob(encoder.encode(text))]);
      }
      for (let i = 0; i < 12; i++) {
        files.push([`large/${batch}-${i}.bin`, stream.blob(random.bytes(400 * 1024))]);
      }
      tip = stream.commit("refs/heads/main", `batch ${batch}`, tip, files);
      await stream.flushTo(writer);
    }
    await writer.finish();
    await gitOk(["--git-dir", path, "repack", "-a", "-d", "-q"]);
  });
}

async function ourSide(): Promise<Side> {
  const server = await startTestServer();
  return {
    name: "ours",
    address: server.unixAddress,
    storage: server.storagePaths.default,
    pid: () => Promise.resolve(server.process.pid),
    stop: async () => {
      await server.stop("SIGKILL");
    },
  };
}

async function referenceSide(): Promise<Side | undefined> {
  if (!referenceAvailable) return undefined;
  const control = (args: string[]) =>
    new Deno.Command(REFGITALY_PATH, { args, stdout: "piped", stderr: "piped" }).output();
  const started = await control(["start", REF_DIR]);
  if (!started.success) {
    console.error(`reference did not start: ${new TextDecoder().decode(started.stderr)}`);
    return undefined;
  }
  return {
    name: "reference",
    address: `unix:${REF_DIR}/gitaly.socket`,
    storage: join(REF_DIR, "repositories"),
    pid: async () => Number((await Deno.readTextFile(join(REF_DIR, "gitaly.pid"))).trim()),
    stop: async () => {
      await control(["stop", REF_DIR]);
    },
  };
}

const methods = serviceInfo("gitaly.BlobService").methods;
const codec = (name: string) => methodCodec(methods.find((m) => m.name === name)!);
const GET_BLOB = codec("GetBlob");
const LIST_ALL_LFS = codec("ListAllLFSPointers");

function repository(name: string) {
  return { storage_name: "default", relative_path: name };
}

/** Streams one GetBlob; returns the content bytes received. */
async function getBlob(client: grpc.Client, oid: string): Promise<number> {
  let bytes = 0;
  const request = { repository: repository("large.git"), oid, limit: -1 };
  for await (const response of serverStreamCall(client, GET_BLOB, request)) {
    bytes += (response as { data?: Uint8Array }).data?.byteLength ?? 0;
  }
  return bytes;
}

/** Requests per second of `calls` GetBlob calls made by `concurrency` workers. */
async function smallBlobRate(client: grpc.Client, oid: string, concurrency: number) {
  let next = 0;
  const worker = async () => {
    while (next++ < SMALL_CALLS) await getBlob(client, oid);
  };
  await Promise.all(Array.from({ length: 50 }, () => getBlob(client, oid))); // warm up
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return SMALL_CALLS / ((performance.now() - started) / 1000);
}

interface SideResult {
  rps1: number;
  rps32: number;
  largeMiBps: number;
  rssGrowthMiB: number;
  lfsSeconds: number;
  lfsPointers: number;
}

async function measure(side: Side, repos: { large: string; lfs: string }): Promise<SideResult> {
  await copyRepo(repos.large, join(side.storage, "large.git"));
  await copyRepo(repos.lfs, join(side.storage, "lfs.git"));
  const client = new grpc.Client(side.address, grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  try {
    const largeOid = await gitOk(["--git-dir", repos.large, "rev-parse", "main:large.bin"]);
    const smallOid = await gitOk(["--git-dir", repos.large, "rev-parse", "main:README.md"]);
    // The large blob first, on a fresh server, so the RSS growth is its own.
    const pid = await side.pid();
    const baseline = await rssMiB(pid);
    const sampler = new RssSampler(pid);
    let best = Infinity;
    for (let run = 0; run < LARGE_RUNS; run++) {
      const started = performance.now();
      const bytes = await getBlob(client, largeOid);
      if (bytes !== 100 * 1024 * 1024) throw new Error(`${side.name}: got ${bytes} bytes`);
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    const peak = await sampler.stop();
    const rps1 = await smallBlobRate(client, smallOid, 1);
    const rps32 = await smallBlobRate(client, smallOid, 32);
    let lfsSeconds = Infinity;
    let lfsPointers = 0;
    for (let run = 0; run < LFS_RUNS; run++) {
      const started = performance.now();
      lfsPointers = 0;
      const stream = serverStreamCall(client, LIST_ALL_LFS, { repository: repository("lfs.git") });
      for await (const response of stream) {
        lfsPointers += (response as { lfs_pointers: unknown[] }).lfs_pointers.length;
      }
      lfsSeconds = Math.min(lfsSeconds, (performance.now() - started) / 1000);
    }
    return {
      rps1,
      rps32,
      largeMiBps: 100 / best,
      rssGrowthMiB: Math.max(0, peak - baseline),
      lfsSeconds,
      lfsPointers,
    };
  } finally {
    client.close();
  }
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function row(name: string, ours: string, reference: string, ratio: string): string {
  return `| ${name.padEnd(44)} | ${ours.padStart(12)} | ${reference.padStart(12)} | ${ratio}`;
}

/** The `blobs` section of `deno task bench`. */
export async function blobsSection(): Promise<void> {
  const repos = { large: await largeBlobRepo(), lfs: await lfsRepo() };
  const results: Partial<Record<Side["name"], SideResult>> = {};
  for (const start of [ourSide, referenceSide]) {
    const side = await start();
    if (!side) continue;
    try {
      results[side.name] = await measure(side, repos);
    } finally {
      await side.stop();
    }
  }
  const ours = results.ours!;
  const ref = results.reference;
  const higherIsBetter = (a: number, b?: number) => b ? `${(a / b).toFixed(2)}×` : "";
  const lowerIsBetter = (a: number, b?: number) => b ? `${(b / a).toFixed(2)}×` : "";
  console.log("\n## BlobService (ours | reference | ratio, higher is better)\n");
  console.log(row("case", "ours", "reference", "ours vs reference"));
  const num = (n: number | undefined, digits = 0, unit = "") =>
    n === undefined ? "—" : `${n.toFixed(digits)}${unit}`;
  console.log(row(
    "GetBlob small blob, concurrency 1 (req/s)",
    num(ours.rps1),
    num(ref?.rps1),
    higherIsBetter(ours.rps1, ref?.rps1),
  ));
  console.log(row(
    "GetBlob small blob, concurrency 32 (req/s)",
    num(ours.rps32),
    num(ref?.rps32),
    higherIsBetter(ours.rps32, ref?.rps32),
  ));
  console.log(row(
    "GetBlob 100 MiB blob (MiB/s, best of 3)",
    num(ours.largeMiBps, 1),
    num(ref?.largeMiBps, 1),
    higherIsBetter(ours.largeMiBps, ref?.largeMiBps),
  ));
  console.log(row(
    "  server RSS growth (MiB; target < 64)",
    num(ours.rssGrowthMiB, 1),
    num(ref?.rssGrowthMiB, 1),
    "",
  ));
  console.log(row(
    `ListAllLFSPointers ~50 MiB repo (s, best of ${LFS_RUNS})`,
    num(ours.lfsSeconds, 3),
    num(ref?.lfsSeconds, 3),
    lowerIsBetter(ours.lfsSeconds, ref?.lfsSeconds),
  ));
  console.log(row(
    "  pointers found",
    String(ours.lfsPointers),
    ref ? String(ref.lfsPointers) : "—",
    "",
  ));
}
