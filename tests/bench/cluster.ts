/**
 * Cluster benchmark: one Praefect 16.7 (with its PostgreSQL) in front of two
 * virtual storages, `ours` (three of our nodes) and `reference` (three
 * reference Gitaly nodes), measured in one run, interleaved:
 *
 * - push latency: `git push` of a small commit through Praefect (Gitaly's
 *   gitaly-ssh), every node voting; the median of the runs;
 * - catch-up: a secondary is killed, a push leaves it behind, it is started
 *   again; the time from serving again until Praefect records every
 *   replica current with no replication job left (Praefect notices the node,
 *   replicates with ReplicateRepository).
 *
 * Target: ours at least as fast as the reference (reference ÷ ours ≥ 1.0).
 * Needs Go, PostgreSQL and the reference; skipped with a note otherwise.
 *
 * @module
 */
import { join } from "node:path";
import {
  type ClusterClient,
  clusterClient,
  type ClusterNode,
  clusterUnavailable,
  NODE_TOKEN,
  type NodeKind,
  pendingJobs,
  pushCommit,
  repositoryRecord,
  startNodes,
  waitFor,
} from "../helpers/cluster.ts";
import { gitOk } from "../helpers/gitrepo.ts";
import { type Postgres, startPostgres } from "../helpers/postgres.ts";
import { type Praefect, startPraefect } from "../helpers/praefect.ts";
import { referenceAvailable } from "../helpers/reference.ts";

const PUSHES = Number(Deno.env.get("BENCH_CLUSTER_PUSHES") ?? 7);
const CATCH_UPS = Number(Deno.env.get("BENCH_CLUSTER_CATCH_UPS") ?? 2);
const REPO = "bench/cluster.git";

/** One virtual storage under test. */
interface Side {
  kind: NodeKind;
  nodes: ClusterNode[];
  client: ClusterClient;
  checkout: string;
  pushes: number[];
  catchUps: number[];
}

/** Prints the section. */
export async function clusterSection(): Promise<void> {
  console.log("\n## Cluster: through Praefect 16.7, three nodes a virtual storage\n");
  const missing = clusterUnavailable() ??
    (await referenceAvailable() ? undefined : "the reference Gitaly is not installed");
  if (missing) {
    console.log(`skipped: ${missing}`);
    return;
  }
  const postgres = await startPostgres();
  const work = await Deno.makeTempDir({ prefix: "bench-cluster-" });
  const started: ClusterNode[] = [];
  let praefect: Praefect | undefined;
  try {
    const [ours, reference] = await Promise.all([
      startNodes("ours", 3, "ours"),
      startNodes("reference", 3, "ref"),
    ]);
    started.push(...ours, ...reference);
    praefect = await startPraefect({
      postgres,
      database: "praefect_bench",
      nodes: [],
      virtualStorages: [
        { name: "ours", nodes: asPraefectNodes(ours) },
        { name: "reference", nodes: asPraefectNodes(reference) },
      ],
    });
    const sides: Side[] = [];
    for (const [kind, nodes] of [["ours", ours], ["reference", reference]] as const) {
      const client = await clusterClient(praefect.address, praefect.token, kind);
      const checkout = join(work, kind);
      await client.call("create", REPO);
      await gitOk(["init", "--quiet", "--initial-branch=main", checkout]);
      await pushCommit(client, checkout, REPO, "main"); // warm-up
      sides.push({ kind, nodes, client, checkout, pushes: [], catchUps: [] });
    }
    await settle(postgres);
    for (let run = 0; run < PUSHES; run++) {
      for (const side of sides) {
        const t = performance.now();
        await pushCommit(side.client, side.checkout, REPO, "main");
        side.pushes.push((performance.now() - t) / 1000);
      }
    }
    printHeader();
    printRow(`push latency, small commit (median of ${PUSHES})`, sides.map((s) => s.pushes));
    for (let run = 0; run < CATCH_UPS; run++) {
      for (const side of sides) side.catchUps.push(await catchUp(side, postgres));
    }
    printRow(
      `secondary caught up after restart (median of ${CATCH_UPS})`,
      sides.map((s) => s.catchUps),
    );
  } finally {
    await praefect?.stop();
    await Promise.all(started.map((n) => n.stop()));
    await postgres.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

function asPraefectNodes(nodes: ClusterNode[]) {
  return nodes.map((n) => ({ storage: n.storage, address: n.address, token: NODE_TOKEN }));
}

/** Waits until Praefect has no replication job left. */
async function settle(postgres: Postgres): Promise<void> {
  await waitFor("replication to finish", async () => {
    const pending = await pendingJobs({ sql: (q) => postgres.sql("praefect_bench", q) });
    return pending === 0 || undefined;
  }, 120_000);
}

/**
 * Kills a secondary, pushes (which leaves it behind), starts it again and
 * returns the seconds from serving again to Praefect recording it current.
 */
async function catchUp(side: Side, postgres: Postgres): Promise<number> {
  const record = await repositoryRecord(side.client, REPO);
  const secondary = side.nodes.find((n) => n.storage !== record.primary)!;
  await secondary.kill();
  try {
    // Praefect fails a push whose secondary cannot be dialed: wait until it counts the node out.
    await waitFor(`${secondary.storage} unhealthy`, async () => {
      const now = await repositoryRecord(side.client, REPO);
      return !now.replicas.find((r) => r.storage === secondary.storage)!.healthy || undefined;
    });
    await pushCommit(side.client, side.checkout, REPO, "main");
  } finally {
    await secondary.restart();
  }
  const t = performance.now();
  await waitFor(`${secondary.storage} caught up`, async () => {
    const now = await repositoryRecord(side.client, REPO);
    const current = now.replicas.every((r) => r.healthy && r.generation === now.generation);
    const pending = await pendingJobs({ sql: (q) => postgres.sql("praefect_bench", q) });
    return current && pending === 0 || undefined;
  }, 180_000);
  return (performance.now() - t) / 1000;
}

function printHeader(): void {
  console.log(`| ${"measure".padEnd(48)} | ${"ours".padStart(9)} | ${"reference".padStart(9)} |`);
}

/** One row: the medians (seconds) of ours and the reference, and reference ÷ ours. */
function printRow(name: string, [ours, reference]: number[][]): void {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const a = median(ours);
  const b = median(reference);
  console.log(
    `| ${name.padEnd(48)} | ${a.toFixed(3).padStart(9)} | ${b.toFixed(3).padStart(9)} | ` +
      `${(b / a).toFixed(2)}× the reference's speed (target ≥ 1.0×)`,
  );
}
