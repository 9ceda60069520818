/**
 * Sidechannel benchmark: a full clone's pack (the transport bench's
 * ~100 MiB repository) through `SSHUploadPackWithSidechannel` and
 * `PostUploadPackWithSidechannel`, beside `git upload-pack` run directly
 * and plain `SSHUploadPack` (both taken from the transport bench), best of
 * several interleaved runs; then the server's peak RSS while 50 clients
 * (`BENCH_MEMORY_CLONES`) clone that repository concurrently over
 * sidechannels, ours beside the reference Gitaly's (when installed).
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import {
  dialSidechannel,
  postUploadPackWithSidechannel,
  sshUploadPackWithSidechannel,
} from "../../src/client/sidechannel.ts";
import { SidechannelRegistry } from "../../src/sidechannel/registry.ts";
import { cachedLargeRepo, copyRepo, listRefs } from "../helpers/gitrepo.ts";
import { GO, goBinary } from "../helpers/go.ts";
import { referenceAvailable, startReference } from "../helpers/reference.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TRANSPORT_CASES, type TransportContext } from "./transport.ts";

/** The transport bench's repository (same key and shape, so the cache is shared). */
const REPO_KEY = "bench-transport-100mib-v1";
const REPO_OPTIONS = { sizeMiB: 100, blobKiB: 1024 };
const RUNS = 5;
const CONCURRENT_CLONES = Number(Deno.env.get("BENCH_MEMORY_CLONES") ?? 50);
/** The limit for the server's peak RSS during those clones. */
const RSS_TARGET_MIB = 300;

/** The sidechannel client every sidechannel run of one server shares. */
interface SidechannelClient {
  client: grpc.Client;
  registry: SidechannelRegistry;
}

/** The transport bench's context plus our sidechannel client. */
type BenchContext = TransportContext & { sidechannel: SidechannelClient };

/** Cases of the transfer table; ratios are relative to the first. */
function transferCases(): { name: string; run: (context: BenchContext) => Promise<number> }[] {
  const direct = TRANSPORT_CASES.find((c) => c.name.startsWith("git upload-pack"));
  const ssh = TRANSPORT_CASES.find((c) => c.name.startsWith("SSHUploadPack"));
  if (!direct || !ssh) throw new Error("the transport bench no longer has its direct/SSH cases");
  return [
    direct,
    ssh,
    { name: "SSHUploadPackWithSidechannel", run: sidechannelSsh },
    { name: "PostUploadPackWithSidechannel", run: sidechannelPost },
  ];
}

/** SSHUploadPackWithSidechannel from a client in this process; counts stdout bytes. */
async function sidechannelSsh(context: BenchContext): Promise<number> {
  const { client, registry } = context.sidechannel;
  let bytes = 0;
  await sshUploadPackWithSidechannel(client, registry, { repository: context.repository }, {
    stdin: ReadableStream.from([context.request]),
    stdout: (chunk) => {
      bytes += chunk.byteLength;
      return Promise.resolve();
    },
    stderr: () => Promise.resolve(),
  });
  return bytes;
}

/** PostUploadPackWithSidechannel from a client in this process; counts response bytes. */
async function sidechannelPost(context: BenchContext): Promise<number> {
  const { client, registry } = context.sidechannel;
  let bytes = 0;
  await postUploadPackWithSidechannel(client, registry, { repository: context.repository }, {
    body: ReadableStream.from([context.request]),
    response: (chunk) => {
      bytes += chunk.byteLength;
      return Promise.resolve();
    },
  });
  return bytes;
}

interface Result {
  name: string;
  bytes: number;
  seconds: number;
}

/** Best of {@link RUNS} interleaved runs per case, all against one server. */
function measureTransfers(source: string): Promise<Result[]> {
  return withBenchServer(source, async (context) => {
    const cases = transferCases();
    const best = new Map<string, Result>();
    for (let run = 0; run < RUNS; run++) {
      for (const c of cases) {
        const started = performance.now();
        const bytes = await c.run(context);
        const result = { name: c.name, bytes, seconds: (performance.now() - started) / 1000 };
        const previous = best.get(c.name);
        if (!previous || result.seconds < previous.seconds) best.set(c.name, result);
      }
    }
    return cases.map((c) => best.get(c.name)!);
  });
}

/**
 * Starts a server holding a copy of `source`, runs `body` with clients of
 * it, then kills the server before closing the clients: Deno 2.9.6's HTTP/2
 * code can abort a process on a GOAWAY (denoland/deno#36788; the transport
 * bench does the same).
 */
async function withBenchServer<T>(
  source: string,
  body: (context: BenchContext) => Promise<T>,
): Promise<T> {
  const server = await startTestServer();
  const scratch = await Deno.makeTempDir({ prefix: "bench-sidechannel-" });
  const client = new grpc.Client(server.unixAddress, grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
  });
  const registry = new SidechannelRegistry();
  const sidechannel = { client: dialSidechannel(server.unixAddress, registry), registry };
  try {
    const repoPath = join(server.storagePaths.default, "bench.git");
    await copyRepo(source, repoPath);
    const request = await wantEverything(repoPath);
    const repository = { storage_name: "default", relative_path: "bench.git" };
    return await body({ repoPath, repository, server, client, request, scratch, sidechannel });
  } finally {
    await server.stop("SIGKILL");
    client.close();
    sidechannel.client.close();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/**
 * Peak RSS of a fresh server while {@link CONCURRENT_CLONES} clients each
 * fetch the whole pack over SSHUploadPackWithSidechannel. The clients are
 * Gitaly's Go client (one process each, output to /dev/null) when Go is
 * available, else clients in this process.
 */
async function measureConcurrentMemory(source: string) {
  return await withBenchServer(source, async (context) => {
    const sampler = new RssSampler(context.server.process.pid);
    const started = performance.now();
    const clients = GO ? "Go client processes" : "in-process clients";
    const bytes = GO
      ? await goClones(context.server.unixAddress, context.request)
      : await Promise.all(
        Array.from({ length: CONCURRENT_CLONES }, () => sidechannelSsh(context)),
      );
    const seconds = (performance.now() - started) / 1000;
    const peakMiB = await sampler.stop();
    const survived = !(await hasExited(context.server));
    return {
      peakMiB,
      seconds,
      bytes: bytes.reduce((a, b) => a + b, 0),
      clients,
      survived,
      request: context.request,
    };
  });
}

/**
 * The same clones against the reference Gitaly (Go clients only); its
 * peak RSS, or undefined without the reference or Go.
 */
async function measureReferenceMemory(
  source: string,
  request: Uint8Array,
): Promise<{ peakMiB: number; seconds: number; failed: number } | undefined> {
  if (!GO || !await referenceAvailable()) return undefined;
  const reference = await startReference();
  try {
    await copyRepo(source, join(reference.storagePath, "bench.git"));
    const sampler = new RssSampler(reference.pid);
    const started = performance.now();
    const results = await Promise.allSettled([goClones(reference.address, request)]);
    const seconds = (performance.now() - started) / 1000;
    return {
      peakMiB: await sampler.stop(),
      seconds,
      failed: results.filter((r) => r.status === "rejected").length,
    };
  } finally {
    await reference.stop();
  }
}

/** Runs the Go interop client as git's transport with the request on stdin. */
async function goClones(address: string, request: Uint8Array): Promise<number[]> {
  const binary = await goBinary("sidechannel");
  return await Promise.all(Array.from({ length: CONCURRENT_CLONES }, async () => {
    const child = new Deno.Command(binary, {
      args: ["ssh", "gitaly", "git-upload-pack 'bench.git'"],
      env: {
        GITALY_ADDRESS: address,
        GITALY_STORAGE: "default",
        GITALY_REPO: "bench.git",
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(request);
    await writer.close();
    let bytes = 0;
    for await (const chunk of child.stdout) bytes += chunk.byteLength;
    const { code } = await child.status;
    if (code !== 0) throw new Error(`Go client exited with ${code}`);
    return bytes;
  }));
}

/** Whether the server process has ended (it must survive its clients hanging up). */
async function hasExited(server: TestServer): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  return await Deno.stat(`/proc/${server.process.pid}/status`).then(() => false, () => true) ||
    (await Deno.readTextFile(`/proc/${server.process.pid}/status`)).includes("State:\tZ");
}

/** Polls VmRSS and reads VmHWM of a process; reports the peak in MiB. */
export class RssSampler {
  #peakKiB = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pid: number) {
    this.#timer = setInterval(() => this.#sample("VmRSS"), 20);
  }

  async stop(): Promise<number> {
    clearInterval(this.#timer);
    await this.#sample("VmHWM");
    return this.#peakKiB / 1024;
  }

  async #sample(field: string): Promise<void> {
    const status = await Deno.readTextFile(`/proc/${this.pid}/status`).catch(() => "");
    const kib = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    if (kib > this.#peakKiB) this.#peakKiB = kib;
  }
}

/** `want` for every ref tip (v0, side-band-64k), a flush, then `done`. */
async function wantEverything(repoPath: string): Promise<Uint8Array> {
  const oids = [...new Set(Object.values(await listRefs(repoPath)))];
  const lines = oids.map((oid, i) =>
    `want ${oid}${
      i === 0 ? " multi_ack_detailed side-band-64k thin-pack ofs-delta agent=bench" : ""
    }\n`
  );
  const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, "0") + line;
  return new TextEncoder().encode(lines.map(pkt).join("") + "0000" + pkt("done\n"));
}

function row(name: string, value: string, note: string): string {
  return `| ${name.padEnd(36)} | ${value.padStart(12)} | ${note}`;
}

/** Prints the section. */
export async function sidechannelSection(): Promise<void> {
  const source = await cachedLargeRepo(REPO_KEY, REPO_OPTIONS);
  const results = await measureTransfers(source);
  const rate = (r: Result) => r.bytes / r.seconds;
  const [direct, ssh] = results;
  console.log(`\n## Sidechannel: full clone of a ~100 MiB pack (best of ${RUNS}, interleaved)\n`);
  for (const r of results) {
    const mib = (rate(r) / 1024 / 1024).toFixed(1);
    const notes = [`${(rate(r) / rate(direct)).toFixed(2)}× direct git`];
    if (r !== direct && r !== ssh) {
      notes[0] += " (target ≥ 0.90)";
      notes.push(`${(rate(r) / rate(ssh)).toFixed(2)}× SSHUploadPack (target ≥ 1.50)`);
    }
    notes.push(`${(r.bytes / 1024 / 1024).toFixed(1)} MiB in ${r.seconds.toFixed(2)} s`);
    console.log(row(r.name, `${mib} MiB/s`, notes.join(", ")));
  }
  const memory = await measureConcurrentMemory(source);
  const reference = await measureReferenceMemory(source, memory.request);
  console.log(
    row(
      `server peak RSS, ${CONCURRENT_CLONES} sidechannel clones`,
      `${memory.peakMiB.toFixed(1)} MiB`,
      `target < ${RSS_TARGET_MIB} MiB (${(memory.peakMiB / RSS_TARGET_MIB).toFixed(2)}× target); ` +
        `${(memory.bytes / 1024 / 1024).toFixed(0)} MiB in ${memory.seconds.toFixed(1)} s, ` +
        memory.clients + (memory.survived ? "" : "; THE SERVER DIED when the clients hung up"),
    ),
  );
  if (reference) {
    console.log(
      row(
        `reference peak RSS, same clones`,
        `${reference.peakMiB.toFixed(1)} MiB`,
        `in ${reference.seconds.toFixed(1)} s (ours ${
          (reference.seconds / memory.seconds).toFixed(2)
        }× its speed)` + (reference.failed ? `; ${reference.failed} clone batch failed` : ""),
      ),
    );
  }
}
