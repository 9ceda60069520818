/**
 * Transport benchmark: how fast a full clone's pack leaves the server.
 * One repository with a pack of about 100 MiB (generated once, cached by
 * version key) is served three ways, interleaved, best of three:
 *
 * 1. `git upload-pack --stateless-rpc` run directly, fed a want/done request;
 * 2. the same request through `SSHUploadPack` with a grpc-js client;
 * 3. a local `git clone --no-local`.
 *
 * More cases (e.g. an end-to-end clone through `gitaly-ssh`) are added by
 * appending to {@link TRANSPORT_CASES}.
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { cachedLargeRepo, copyRepo, gitEnv, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

/** Bump when the generated repository changes. */
const REPO_KEY = "bench-transport-100mib-v1";
const RUNS = 3;

/** What every case may use. */
export interface TransportContext {
  /** The bare repository on disk (inside the server's storage). */
  repoPath: string;
  /** Its `gitaly.Repository`. */
  repository: { storage_name: string; relative_path: string };
  /** The running server. */
  server: TestServer;
  /**
   * A grpc-js client of the server, shared by every run. Deno 2.9.6's
   * HTTP/2 code can abort the process on a GOAWAY (denoland/deno#36788),
   * so the client is never closed while the server runs and the server is
   * stopped with SIGKILL (no GOAWAY towards this process).
   */
  client: grpc.Client;
  /** A v0 upload-pack request: every ref wanted, flush, `done`. */
  request: Uint8Array;
  /** A fresh scratch directory for this run (removed afterwards). */
  scratch: string;
}

/** One way of transferring the repository; resolves to the bytes transferred. */
export interface TransportCase {
  name: string;
  run(context: TransportContext): Promise<number>;
}

/** The measured cases, in print order; ratios are relative to the first. */
export const TRANSPORT_CASES: TransportCase[] = [
  { name: "git upload-pack --stateless-rpc", run: directUploadPack },
  { name: "SSHUploadPack (grpc-js client)", run: sshUploadPack },
  { name: "git clone --no-local (local)", run: localClone },
  // Hook: the gitaly-ssh helper appends { name: "git clone via gitaly-ssh", run } here.
];

/** One result line. */
export interface TransportResult {
  name: string;
  bytes: number;
  seconds: number;
}

/** Runs every case `runs` times, interleaved; keeps each case's fastest run. */
export async function measureTransport(runs = RUNS): Promise<TransportResult[]> {
  const source = await cachedLargeRepo(REPO_KEY, { sizeMiB: 100, blobKiB: 1024 });
  const server = await startTestServer();
  const client = new grpc.Client(server.unixAddress, grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
  });
  try {
    const relative = "bench.git";
    const repoPath = join(server.storagePaths.default, relative);
    await copyRepo(source, repoPath);
    const request = await wantEverything(repoPath);
    const best = new Map<string, TransportResult>();
    for (let run = 0; run < runs; run++) {
      for (const c of TRANSPORT_CASES) {
        const scratch = await Deno.makeTempDir({ prefix: "bench-transport-" });
        try {
          const started = performance.now();
          const bytes = await c.run({
            repoPath,
            repository: { storage_name: "default", relative_path: relative },
            server,
            client,
            request,
            scratch,
          });
          const seconds = (performance.now() - started) / 1000;
          const previous = best.get(c.name);
          if (!previous || seconds < previous.seconds) {
            best.set(c.name, { name: c.name, bytes, seconds });
          }
        } finally {
          await Deno.remove(scratch, { recursive: true }).catch(() => {});
        }
      }
    }
    return TRANSPORT_CASES.map((c) => best.get(c.name)!);
  } finally {
    await server.stop("SIGKILL");
    client.close();
  }
}

/** `want` for every ref tip, a flush, then `done` (protocol v0). */
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

/** Case 1: git alone, stdout read by Deno with a BYOB reader. */
async function directUploadPack(context: TransportContext): Promise<number> {
  const child = new Deno.Command("git", {
    args: ["upload-pack", "--stateless-rpc", context.repoPath],
    env: gitEnv(),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(context.request);
  await writer.close();
  const bytes = await countBytes(child.stdout);
  const status = await child.status;
  if (!status.success) throw new Error(`git upload-pack exited with ${status.code}`);
  return bytes;
}

/** Case 2: the RPC, from a client in this process; counts the stdout bytes received. */
async function sshUploadPack(context: TransportContext): Promise<number> {
  const definition = grpcServiceDefinition("gitaly.SSHService").SSHUploadPack;
  const call = context.client.makeBidiStreamRequest(
    definition.path,
    definition.requestSerialize,
    definition.responseDeserialize,
    new grpc.Metadata(),
  );
  call.write({ repository: context.repository });
  call.write({ stdin: context.request });
  call.end();
  let bytes = 0;
  for await (const message of call) bytes += (message as { stdout: Uint8Array }).stdout.length;
  return bytes;
}

/** Case 3: git's own local transport (upload-pack piped to fetch-pack/index-pack). */
async function localClone(context: TransportContext): Promise<number> {
  const dest = join(context.scratch, "clone.git");
  await gitOk(["clone", "--quiet", "--bare", "--no-local", context.repoPath, dest]);
  let bytes = 0;
  for await (const entry of Deno.readDir(join(dest, "objects", "pack"))) {
    if (entry.name.endsWith(".pack")) {
      bytes += (await Deno.stat(join(dest, "objects", "pack", entry.name))).size;
    }
  }
  return bytes;
}

async function countBytes(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new Uint8Array(1024 * 1024);
  let total = 0;
  while (true) {
    const { value, done } = await reader.read(buffer);
    if (done) return total;
    total += value.byteLength;
    buffer = new Uint8Array(value.buffer);
  }
}

/** Prints the section: MiB/s per case and the ratio to the first. */
export async function transportSection(): Promise<void> {
  const results = await measureTransport();
  const base = results[0].bytes / results[0].seconds;
  console.log(`\n## Transport: full clone of a ~100 MiB pack (best of ${RUNS}, interleaved)\n`);
  for (const r of results) {
    const rate = r.bytes / r.seconds;
    const mib = (rate / 1024 / 1024).toFixed(1);
    console.log(
      `| ${r.name.padEnd(36)} | ${`${mib} MiB/s`.padStart(12)} | ` +
        `${(rate / base).toFixed(2)}× (${(r.bytes / 1024 / 1024).toFixed(1)} MiB in ${
          r.seconds.toFixed(2)
        } s)`,
    );
  }
}
