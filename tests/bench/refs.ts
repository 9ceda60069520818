/**
 * Reference reads, ours beside the reference Gitaly 16.7: RefExists and
 * FindBranch requests per second at concurrency 1 and 32 over one
 * connection, and FindAllBranches, ListRefs and FindAllTags on a
 * repository with 10,000 refs (seconds per call, best of `BENCH_RUNS`, default 3). Runs
 * alternate between the servers.
 *
 * @module
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../../src/client/mod.ts";
import { methodCodec } from "../../src/client/services.ts";
import { serverStreamCall, unaryCall } from "../../src/client/stream_calls.ts";
import { serviceInfo } from "../../src/proto/mod.ts";
import { copyRepo, gitOk, initBareRepo } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";
import { referenceAvailable, startReference } from "../helpers/reference.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const REF_COUNT = 10_000;
/** Seconds each requests-per-second measurement runs. */
const RATE_SECONDS = Number(Deno.env.get("BENCH_RATE_SECONDS") ?? 3);
const encoder = new TextEncoder();

function codec(method: string) {
  const info = serviceInfo("gitaly.RefService").methods.find((m) => m.name === method)!;
  return methodCodec(info);
}

/** A bare repository with 20 commits and 10,000 branches and tags spread over them. */
async function buildRepo(path: string): Promise<void> {
  await initBareRepo(path);
  const tree = await gitOk(["-C", path, "hash-object", "-t", "tree", "-w", "--stdin"], {
    stdin: "",
  });
  const commits: string[] = [];
  for (let i = 0; i < 20; i++) {
    const parents = i === 0 ? [] : ["-p", commits[i - 1]];
    commits.push(
      await gitOk(["-C", path, "commit-tree", tree, ...parents, "-m", `Commit ${i}\n\nbody`]),
    );
  }
  const lines = [`create refs/heads/main ${commits[19]}`];
  for (let i = 0; i < REF_COUNT / 2; i++) {
    const n = String(i).padStart(5, "0");
    lines.push(`create refs/heads/branch-${n} ${commits[i % 20]}`);
    lines.push(`create refs/tags/tag-${n} ${commits[(i * 7) % 20]}`);
  }
  await gitOk(["-C", path, "update-ref", "--stdin"], { stdin: lines.join("\n") + "\n" });
  await gitOk(["-C", path, "pack-refs", "--all"]);
  await gitOk(["-C", path, "symbolic-ref", "HEAD", "refs/heads/main"]);
}

/** Requests per second of `call` run `concurrency` at a time for RATE_SECONDS. */
async function rate(call: () => Promise<unknown>, concurrency: number): Promise<number> {
  for (let i = 0; i < 20; i++) await call(); // warm up
  const end = performance.now() + RATE_SECONDS * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - start) / 1000);
}

/** Seconds one whole streamed call takes, best of RUNS. */
async function stream(conn: grpc.Client, method: string, request: unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    let messages = 0;
    for await (const _ of serverStreamCall(conn, codec(method), request as never)) messages++;
    best = Math.min(best, (performance.now() - start) / 1000);
    if (messages === 0) throw new Error(`${method} sent nothing`);
  }
  return best;
}

function row(name: string, ours: string, reference: string, ratio: string): string {
  return `| ${name.padEnd(38)} | ${ours.padStart(12)} | ${reference.padStart(12)} | ${
    ratio.padStart(6)
  } |`;
}

/** Prints the section. */
export async function refsSection(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench-refs-" });
  const source = join(dir, "refs.git");
  await buildRepo(source);
  const ours = await startTestServer();
  const reference = await referenceAvailable() ? await startReference() : undefined;
  const conns: Record<string, grpc.Client> = {};
  try {
    await copyRepo(source, join(ours.storagePaths.default, "refs.git"));
    conns.ours = dial(ours.unixAddress);
    if (reference) {
      await copyRepo(source, join(reference.storagePath, "refs.git"));
      conns.reference = dial(reference.address);
    }
    const repository = { storage_name: "default", relative_path: "refs.git" };
    const refExists = codec("RefExists");
    const findBranch = codec("FindBranch");
    const unaries: [string, (conn: grpc.Client) => () => Promise<unknown>][] = [
      [
        "RefExists",
        (conn) => () =>
          unaryCall(conn, refExists, {
            repository,
            ref: encoder.encode("refs/heads/branch-04242"),
          }),
      ],
      [
        "FindBranch",
        (conn) => () =>
          unaryCall(conn, findBranch, { repository, name: encoder.encode("branch-04242") }),
      ],
    ];
    console.log(`\n## Reference reads (${REF_COUNT.toLocaleString("en")} refs)\n`);
    console.log(row("case", "ours", "reference", "ratio"));
    console.log(
      row("-".repeat(38), "-".repeat(12), "-".repeat(12), "-".repeat(6)).replaceAll(" ", "-"),
    );
    const print = (
      name: string,
      values: Record<string, number>,
      unit: string,
      higherBetter: boolean,
    ) => {
      const fmt = (v: number | undefined) =>
        v === undefined ? "-" : `${v.toFixed(unit === "req/s" ? 0 : 3)} ${unit}`;
      const ratio = values.reference === undefined
        ? "-"
        : `${
          (higherBetter ? values.ours / values.reference : values.reference / values.ours).toFixed(
            2,
          )
        }×`;
      console.log(row(name, fmt(values.ours), fmt(values.reference), ratio));
    };
    for (const [name, make] of unaries) {
      for (const concurrency of [1, 32]) {
        const values: Record<string, number> = {};
        for (const side of Object.keys(conns)) {
          values[side] = await rate(make(conns[side]), concurrency);
        }
        print(`${name}, concurrency ${concurrency}`, values, "req/s", true);
      }
    }
    const streams: [string, string, unknown][] = [
      ["FindAllBranches", "FindAllBranches", { repository }],
      ["ListRefs refs/", "ListRefs", { repository, patterns: [encoder.encode("refs/")] }],
      ["FindAllTags", "FindAllTags", { repository }],
    ];
    for (const [name, method, request] of streams) {
      const values: Record<string, number> = {};
      for (const side of Object.keys(conns)) {
        values[side] = await stream(conns[side], method, request);
      }
      print(name, values, "s", false);
    }
    console.log("\nratio: ours relative to the reference (above 1× is faster than Gitaly)");
  } finally {
    for (const conn of Object.values(conns)) conn.close();
    await ours.stop().catch(() => {});
    await reference?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
