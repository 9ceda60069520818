/**
 * What the RPC benchmark sections share: both servers (ours, and the
 * reference when present) get a copy of one generated repository, named
 * cases alternate between them, the best of several runs is kept, and a
 * table prints ours beside the reference with the ratio.
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { referenceAvailable, refgitaly } from "../differential/harness.ts";
import { copyRepo, gitEnv } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";

/** One server under test. */
export interface Target {
  name: string;
  client: grpc.Client;
  repository: { storage_name: string; relative_path: string };
}

/** A measurement: higher is better for rates, lower for times. */
export interface Case {
  name: string;
  unit: "req/s" | "s";
  run(target: Target): Promise<number>;
}

/** How a section runs. */
export interface Section {
  title: string;
  service: string;
  /** Builds the repository both servers get a copy of. */
  buildRepo(path: string): Promise<void>;
  cases: Case[];
  runs?: number;
  /** Cases from this index on are run once per server before measuring (caches, connections). */
  warmUpFrom?: number;
}

/** A unary call of `method` with the target's repository added. */
export function unary(
  target: Target,
  service: string,
  method: string,
  request: Record<string, unknown>,
): Promise<void> {
  const definition = grpcServiceDefinition(service)[method];
  return new Promise((resolve, reject) => {
    target.client.makeUnaryRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      { repository: target.repository, ...request },
      (error) => error ? reject(error) : resolve(),
    );
  });
}

/** A server-streaming call read to its end; resolves to the number of messages. */
export async function serverStream(
  target: Target,
  service: string,
  method: string,
  request: Record<string, unknown>,
): Promise<number> {
  const definition = grpcServiceDefinition(service)[method];
  const call = target.client.makeServerStreamRequest(
    definition.path,
    definition.requestSerialize,
    definition.responseDeserialize,
    { repository: target.repository, ...request },
  );
  let messages = 0;
  for await (const _ of call) messages++;
  return messages;
}

/** Requests per second of `call` with `concurrency` callers for `durationSeconds`. */
export async function requestsPerSecond(
  concurrency: number,
  call: () => Promise<void>,
  durationSeconds = 3,
): Promise<number> {
  const deadline = performance.now() + durationSeconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await call();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** The fastest of `repeat` calls, in seconds (short calls are noisy on a shared machine). */
export async function seconds(call: () => Promise<unknown>, repeat = 1): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    await call();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

/** Runs a section and prints its table. */
export async function runSection(section: Section): Promise<void> {
  // BENCH_RUNS=15 BENCH_STAT=median: more runs, and each side's median run
  // instead of its best (steadier on a shared machine).
  const runs = Number(Deno.env.get("BENCH_RUNS") ?? section.runs ?? 3);
  const median = Deno.env.get("BENCH_STAT") === "median";
  // BENCH_CASES=ListCommits,FindCommits runs only the cases whose names contain one of them.
  const only = Deno.env.get("BENCH_CASES")?.split(",").filter(Boolean);
  if (only) {
    // The chosen cases are all warmed up, as a whole section's are from `warmUpFrom` on.
    const kept = section.cases.filter((c) => only.some((o) => c.name.includes(o)));
    section = { ...section, cases: kept, warmUpFrom: 0 };
  }
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "bench-" });
  const refDir = join(dir, "ref");
  const source = join(dir, "source.git");
  const server = await startTestServer();
  const targets: Target[] = [];
  let referenceStarted = false;
  try {
    await section.buildRepo(source);
    const repository = { storage_name: "default", relative_path: "bench.git" };
    await copyRepo(source, join(server.storagePaths.default, repository.relative_path));
    targets.push({
      name: "ours",
      client: new grpc.Client(server.unixAddress, grpc.credentials.createInsecure()),
      repository,
    });
    if (referenceAvailable) {
      await refgitaly("start", refDir);
      referenceStarted = true;
      await copyRepo(source, join(refDir, "repositories", repository.relative_path));
      targets.push({
        name: "reference",
        client: new grpc.Client(
          `unix:${join(refDir, "gitaly.socket")}`,
          grpc.credentials.createInsecure(),
        ),
        repository,
      });
    }
    for (const target of targets) {
      for (const c of section.cases.slice(section.warmUpFrom ?? 0)) await c.run(target);
    }
    const values = new Map<string, number[]>();
    for (let run = 0; run < runs; run++) {
      for (const c of section.cases) {
        for (const target of targets) {
          const key = `${c.name}\0${target.name}`;
          values.set(key, [...values.get(key) ?? [], await c.run(target)]);
        }
      }
    }
    const best = new Map<string, number>();
    for (const c of section.cases) {
      for (const target of targets) {
        const key = `${c.name}\0${target.name}`;
        // Sorted best first: seconds ascending, rates descending.
        const sorted = values.get(key)!.sort((a, b) => c.unit === "s" ? a - b : b - a);
        best.set(key, median ? sorted[Math.floor(sorted.length / 2)] : sorted[0]);
      }
    }
    const stat = median ? "median" : "best";
    console.log(`\n## ${section.title} (${stat} of ${runs}, interleaved)\n`);
    console.log("| case | ours | reference | ours ÷ reference (higher is better) |");
    console.log("| --- | --- | --- | --- |");
    for (const c of section.cases) {
      const ours = best.get(`${c.name}\0ours`)!;
      const reference = best.get(`${c.name}\0reference`);
      const format = (v: number) =>
        c.unit === "s" ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(0)} req/s`;
      const ratio = reference === undefined
        ? "—"
        : `${(c.unit === "s" ? reference / ours : ours / reference).toFixed(2)}×`;
      console.log(
        `| ${c.name} | ${format(ours)} | ${
          reference === undefined ? "—" : format(reference)
        } | ${ratio} |`,
      );
    }
  } finally {
    for (const target of targets) target.client.close();
    // SIGKILL: no GOAWAY towards this process (see the transport section).
    await server.stop("SIGKILL").catch(() => {});
    if (referenceStarted) await refgitaly("stop", refDir).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `git fast-import` on the bare repository `path` with `stream` (ending in `done`), then packs it. */
export async function importAndRepack(path: string, stream: string): Promise<void> {
  const child = new Deno.Command("git", {
    args: ["--git-dir", path, "fast-import", "--quiet", "--done"],
    env: gitEnv(),
    clearEnv: true,
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stream));
  await writer.close();
  if (!(await child.status).success) throw new Error("fast-import failed");
  const repack = await new Deno.Command("git", {
    args: ["--git-dir", path, "repack", "-a", "-d", "-q"],
    env: gitEnv(),
  }).output();
  if (!repack.success) throw new Error("repack failed");
}
