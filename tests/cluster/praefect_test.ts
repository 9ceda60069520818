/**
 * Our nodes behind the real Praefect 16.7 with PostgreSQL: a virtual
 * storage of three nodes, driven with real git (through Gitaly's
 * gitaly-ssh) and Gitaly's Go client, in the order an operator meets it:
 * `praefect check`, create/push/clone with every node voting, reads spread
 * over the replicas, `praefect dataloss`, the storage-wide RPCs Praefect
 * fans out, a secondary and then the primary killed, concurrent pushes,
 * removal. `CLUSTER_NODES=reference` runs the same steps against three
 * reference Gitaly nodes. Skips when Go or PostgreSQL is missing.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  type Cluster,
  type ClusterClient,
  clusterClient,
  clusterUnavailable,
  NODE_TOKEN,
  type NodeKind,
  pendingJobs,
  pushCommit,
  receivePackRunning,
  replicaRefs,
  repositoryRecord,
  startCluster,
  waitFor,
} from "../helpers/cluster.ts";
import { gitOk } from "../helpers/gitrepo.ts";
import { startNtpResponder } from "../helpers/ntp.ts";
import { startPostgres } from "../helpers/postgres.ts";

const KIND = (Deno.env.get("CLUSTER_NODES") ?? "ours") as NodeKind;
const unavailable = clusterUnavailable();
if (unavailable) console.warn(`cluster/praefect_test: ${unavailable}; skipping the Praefect tests`);

const REPO = "cluster/project.git";

Deno.test({
  name: `Praefect 16.7 in front of three ${KIND} nodes`,
  ignore: unavailable !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const postgres = await startPostgres();
    let cluster: Cluster | undefined;
    const work = await Deno.makeTempDir({ prefix: "cluster-test-" });
    try {
      cluster = await startCluster(postgres, KIND);
      const client = await clusterClient(cluster.praefect.address, cluster.praefect.token);
      await scenario(t, cluster, client, work);
    } catch (error) {
      if (cluster) await dumpLogs(cluster);
      throw error;
    } finally {
      await cluster?.stop();
      await postgres.stop();
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});

async function scenario(
  t: Deno.TestContext,
  cluster: Cluster,
  client: ClusterClient,
  work: string,
): Promise<void> {
  const checkout = join(work, "checkout");
  const steps: [string, () => Promise<void>][] = [];
  const step = (name: string, fn: () => Promise<void>) => steps.push([name, fn]);

  step("praefect check passes, asking the NTP server named in the request", async () => {
    const ntp = await startNtpResponder();
    try {
      const out = await cluster.praefect.run(["check"], { NTP_HOST: ntp.host });
      assertEquals(out.code, 0, out.stdout + out.stderr);
      assertMatch(out.stdout, /All checks passed\./);
      for (const node of cluster.nodes) {
        assertMatch(out.stdout, new RegExp(`storage "${node.storage}" .* is served`));
      }
      // Praefect itself and each node asked this server.
      assert(ntp.answered() >= 1 + cluster.nodes.length, `${ntp.answered()} NTP answers`);
    } finally {
      await ntp.close();
    }
  });

  step("praefect check fails on nodes whose clock is off", async () => {
    const skewed = await startNtpResponder({ offsetMs: 5 * 60_000 });
    try {
      const out = await cluster.praefect.run(["check"], { NTP_HOST: skewed.host });
      assertEquals(out.code, 1, out.stdout);
      assertMatch(out.stdout, /clock is not synced/);
    } finally {
      await skewed.close();
    }
  });

  step("create, push and clone through Praefect", async () => {
    await client.call("create", REPO);
    await gitOk(["init", "--quiet", "--initial-branch=main", checkout]);
    const pushed = await pushCommit(client, checkout, REPO, "main");
    const clone = join(work, "clone");
    await gitOk(["clone", "--quiet", `ssh://gitaly/${REPO}`, clone], {
      env: client.gitEnv("upload-pack", REPO),
    });
    assertEquals(await gitOk(["rev-parse", "HEAD"], { cwd: clone }), pushed);
    // Whatever the create left to replicate is done before the next steps count.
    await waitFor(
      "replication to finish",
      async () => await pendingJobs(cluster) === 0 || undefined,
    );
  });

  step("CreateRepository: every node votes, every replica is created current", async () => {
    const other = "cluster/created.git";
    await client.call("create", other);
    try {
      const record = await repositoryRecord(client, other);
      assertEquals(record.replicas.map((r) => [r.storage, r.generation]), [
        ...cluster.nodes.map((n) => [n.storage, 0]),
      ]);
      assertEquals(await pendingJobs(cluster), 0, "replication jobs after the create");
    } finally {
      await client.call("remove", other);
    }
  });

  step("a push: every node votes and commits, no replication needed", async () => {
    const before = await repositoryRecord(client, REPO);
    const pushed = await pushCommit(client, checkout, REPO, "main");
    const record = await repositoryRecord(client, REPO);
    assertEquals(record.generation, before.generation + 1);
    for (const replica of record.replicas) {
      assertEquals([replica.storage, replica.generation], [replica.storage, record.generation]);
      assert(replica.valid_primary, `${replica.storage} may serve as primary`);
    }
    assertEquals(await pendingJobs(cluster), 0, "replication jobs after the push");
    const refs = await replicaRefs(cluster, record.replica_path);
    for (const node of cluster.nodes) {
      assertEquals(refs[node.storage]?.["refs/heads/main"], pushed, node.storage);
    }
  });

  step("reads are spread over the up-to-date replicas", async () => {
    await client.call("reads", REPO, ["-n", "60"]);
    const metrics = await cluster.praefect.metrics();
    for (const node of cluster.nodes) {
      const line = metrics.split("\n").find((l) =>
        l.startsWith("gitaly_praefect_read_distribution{") &&
        l.includes(`storage="${node.storage}"`)
      );
      assert(line && Number(line.split(" ").pop()) > 0, `no reads on ${node.storage}`);
    }
  });

  step("praefect dataloss reports nothing lost", async () => {
    await waitFor(
      "replication to finish",
      async () => await pendingJobs(cluster) === 0 || undefined,
    );
    const out = await cluster.praefect.run(["dataloss", "--partially-unavailable"]);
    assertEquals(out.code, 0, out.stderr);
    assertMatch(out.stdout, /All repositories are fully available on all assigned storages!/);
  });

  step(
    "storage-wide RPCs through Praefect: DiskStatistics, ReadinessCheck, checksums",
    async () => {
      const disk = await client.call("disk");
      const statuses = disk.storage_statuses as { storage_name: string; available: string }[];
      assertEquals(
        statuses.map((s) => s.storage_name).sort(),
        cluster.nodes.map((n) => n.storage),
      );
      for (const status of statuses) assert(Number(status.available) > 0, status.storage_name);
      const ready = await client.call("readiness");
      assert("ok_response" in ready && ready.ok_response !== null, JSON.stringify(ready));
      const { replica_path } = await repositoryRecord(client, REPO);
      const viaPraefect = (await client.call("checksum", REPO)).checksum;
      for (const node of cluster.nodes) {
        const direct = await clusterClient(node.address, NODE_TOKEN);
        const answer = await direct.call("checksum", replica_path, ["-storage", node.storage]);
        assertEquals(answer.checksum, viaPraefect, node.storage);
      }
    },
  );

  step(
    "WalkRepos: list-untracked-repositories finds a repository Praefect does not know",
    async () => {
      const node = cluster.nodes[0];
      const direct = await clusterClient(node.address, NODE_TOKEN);
      await direct.call("create", "stray/untracked.git", ["-storage", node.storage]);
      const out = await cluster.praefect.run(["list-untracked-repositories", "--older-than", "0s"]);
      assertEquals(out.code, 0, out.stderr);
      assertMatch(out.stdout, /stray\/untracked\.git/);
      assert(!out.stdout.includes("@cluster"), out.stdout);
      await direct.call("remove", "stray/untracked.git", ["-storage", node.storage]);
    },
  );

  step("a secondary killed during a push is marked unhealthy, then caught up", async () => {
    const record = await repositoryRecord(client, REPO);
    const secondary = cluster.nodes.find((n) => n.storage !== record.primary)!;
    // Kill the node once its receive-pack runs, while the transaction is
    // open. The push is small: Praefect stops forwarding a push to every
    // node once one of them is gone and more than 16 messages are left.
    const push = pushCommit(client, checkout, REPO, "main", 64 << 10);
    let pushing = true;
    push.finally(() => pushing = false).catch(() => {});
    let caught = false;
    while (pushing && !(caught = await receivePackRunning(secondary.storagePath))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await secondary.kill();
    let pushed: string;
    try {
      pushed = await push;
      assert(caught, "the push ended before it reached the secondary");
      const after = await repositoryRecord(client, REPO);
      const replica = after.replicas.find((r) => r.storage === secondary.storage)!;
      assert(replica.generation < after.generation, `${secondary.storage} not outdated`);
      await waitFor(`${secondary.storage} unhealthy`, async () => {
        const now = await repositoryRecord(client, REPO);
        return !now.replicas.find((r) => r.storage === secondary.storage)!.healthy || undefined;
      });
    } finally {
      await secondary.restart();
    }
    await waitFor(`${secondary.storage} caught up`, async () => {
      const now = await repositoryRecord(client, REPO);
      return now.replicas.every((r) => r.healthy && r.generation === now.generation) &&
          await pendingJobs(cluster) === 0 || undefined;
    });
    const refs = await replicaRefs(cluster, record.replica_path);
    assertEquals(refs[secondary.storage]?.["refs/heads/main"], pushed);
    await gitOk(["--git-dir", join(secondary.storagePath, record.replica_path), "fsck"]);
  });

  step(
    "the primary killed: a new one is elected, writes go on, the old one catches up",
    async () => {
      const record = await repositoryRecord(client, REPO);
      const primary = cluster.node(record.primary);
      await primary.kill();
      let pushed: string;
      try {
        await waitFor(`${primary.storage} unhealthy`, async () => {
          const now = await repositoryRecord(client, REPO);
          return !now.replicas.find((r) => r.storage === primary.storage)!.healthy || undefined;
        });
        pushed = await pushCommit(client, checkout, REPO, "failover");
        const elected = await repositoryRecord(client, REPO);
        assert(elected.primary !== primary.storage, `primary still ${elected.primary}`);
      } finally {
        await primary.restart();
      }
      await waitFor(`${primary.storage} caught up`, async () => {
        const now = await repositoryRecord(client, REPO);
        return now.replicas.every((r) => r.healthy && r.generation === now.generation) &&
            await pendingJobs(cluster) === 0 || undefined;
      });
      const refs = await replicaRefs(cluster, record.replica_path);
      assertEquals(refs[primary.storage]?.["refs/heads/failover"], pushed);
    },
  );

  step("20 concurrent pushes lose no ref on any replica", async () => {
    const branches = Array.from({ length: 20 }, (_, i) => `concurrent-${i}`);
    const pushed = await Promise.all(branches.map(async (branch) => {
      const own = join(work, branch);
      await gitOk(["clone", "--quiet", "--shared", checkout, own]);
      return [branch, await pushCommit(client, own, REPO, branch)] as const;
    }));
    const record = await waitFor("replication after the pushes", async () => {
      const now = await repositoryRecord(client, REPO);
      return now.replicas.every((r) => r.generation === now.generation) &&
          await pendingJobs(cluster) === 0 && now || undefined;
    });
    const refs = await replicaRefs(cluster, record.replica_path);
    for (const node of cluster.nodes) {
      for (const [branch, oid] of pushed) {
        assertEquals(
          refs[node.storage]?.[`refs/heads/${branch}`],
          oid,
          `${node.storage} ${branch}`,
        );
      }
    }
  });

  step("RemoveRepository through Praefect removes every replica and the records", async () => {
    const { replica_path } = await repositoryRecord(client, REPO);
    await client.call("remove", REPO);
    assertEquals((await client.call("exists", REPO)).exists, false);
    for (const node of cluster.nodes) {
      const path = join(node.storagePath, replica_path);
      assert(!await Deno.stat(path).then(() => true, () => false), `${path} still there`);
    }
    assertEquals(await cluster.sql("SELECT count(*) FROM repositories"), "0");
  });

  for (const [name, fn] of steps) {
    if (!await t.step(name, fn)) await dumpLogs(cluster);
  }
}

/** On failure: the tails of Praefect's and the nodes' logs, where the reason is. */
async function dumpLogs(cluster: Cluster): Promise<void> {
  const noise = /failed checking node health|createTransport failed|SO_REUSEPORT|cgroups/;
  const interesting = (log: string) =>
    log.split("\n").filter((l) => /"level":"(warn|warning|error)"|panic/.test(l))
      .filter((l) => !noise.test(l)).slice(-12).map((l) => l.slice(0, 1200)).join("\n");
  console.error(
    `--- praefect log (warnings and errors) ---\n${interesting(cluster.praefect.log())}`,
  );
  for (const node of cluster.nodes) {
    console.error(`--- ${node.storage} log ---\n${interesting(await node.log())}`);
  }
}
