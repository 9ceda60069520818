/**
 * OptimizeRepository (default strategy) on a repository with 20,000 loose
 * objects and 50 packs, ours beside the reference Gitaly 16.7: seconds per
 * call on a fresh copy each run (best of `BENCH_RUNS`, default 1). Runs
 * alternate between the servers.
 *
 * @module
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../../src/client/mod.ts";
import { methodCodec } from "../../src/client/services.ts";
import { unaryCall } from "../../src/client/stream_calls.ts";
import { serviceInfo } from "../../src/proto/mod.ts";
import { copyRepo, initBareRepo } from "../helpers/gitrepo.ts";
import { buildMessyRepo } from "../helpers/messy_repo.ts";
import { startTestServer } from "../helpers/server.ts";
import { referenceAvailable, startReference } from "../helpers/reference.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 1);
const LOOSE = 20_000;
const PACKS = 50;

/** Prints the section. */
export async function optimizeSection(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench-optimize-" });
  const source = join(dir, "messy.git");
  await initBareRepo(source);
  await buildMessyRepo(source, { packs: PACKS, looseObjects: LOOSE, unreachable: 10 });
  const info = serviceInfo("gitaly.RepositoryService").methods.find((m) =>
    m.name === "OptimizeRepository"
  )!;
  const optimize = methodCodec(info);
  const ours = await startTestServer();
  const reference = await referenceAvailable() ? await startReference() : undefined;
  const sides: { name: string; conn: grpc.Client; storage: string }[] = [
    { name: "ours", conn: dial(ours.unixAddress), storage: ours.storagePaths.default },
  ];
  if (reference) {
    sides.push({
      name: "reference",
      conn: dial(reference.address),
      storage: reference.storagePath,
    });
  }
  try {
    const best: Record<string, number> = {};
    for (let run = 0; run < RUNS; run++) {
      for (const side of sides) {
        const relative = `messy-${run}.git`;
        await copyRepo(source, join(side.storage, relative));
        const start = performance.now();
        await unaryCall(side.conn, optimize, {
          repository: { storage_name: "default", relative_path: relative },
        } as never);
        const seconds = (performance.now() - start) / 1000;
        best[side.name] = Math.min(best[side.name] ?? Infinity, seconds);
      }
    }
    console.log(
      `\n## OptimizeRepository (${LOOSE.toLocaleString("en")} loose objects, ${PACKS} packs)\n`,
    );
    console.log("| case                 |         ours |    reference |  ratio |");
    console.log("|----------------------|--------------|--------------|--------|");
    const fmt = (v?: number) => v === undefined ? "-" : `${v.toFixed(2)} s`;
    const ratio = best.reference === undefined
      ? "-"
      : `${(best.reference / best.ours).toFixed(2)}×`;
    console.log(
      `| ${"heuristical".padEnd(20)} | ${fmt(best.ours).padStart(12)} | ${
        fmt(best.reference).padStart(12)
      } | ${ratio.padStart(6)} |`,
    );
    console.log("\nratio: reference time / ours (above 1× is faster than Gitaly)");
  } finally {
    for (const side of sides) side.conn.close();
    await ours.stop().catch(() => {});
    await reference?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
