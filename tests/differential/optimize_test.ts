/**
 * OptimizeRepository, ours against the reference Gitaly: on both sides'
 * copies of the same repository, with each strategy, the same refs and the
 * same reachable objects afterwards and fsck clean on both; bad input
 * answered with the same codes and messages.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import type { OptimizeRepositoryRequest_Strategy } from "../../src/proto/types.ts";
import { differentialTest, type Harness, type RepoRef, SIDES } from "./harness.ts";

const RS = "gitaly.RepositoryService";

/** Both sides' sorted reachable object sets, asserted equal; fsck clean on both. */
async function sameContent(h: Harness, repo: RepoRef) {
  await h.compareRefs(repo);
  const objects = [];
  for (const side of SIDES) {
    await h.git(side, repo, ["fsck", "--no-progress", "--no-dangling"]);
    const list = await h.git(side, repo, ["rev-list", "--objects", "--all"]);
    objects.push(list.split("\n").sort().join("\n"));
  }
  assertEquals(objects[0], objects[1], "reachable objects");
}

/** What the heuristics decided, as seen on disk: pack, cruft pack and loose object counts, MIDX. */
async function layouts(h: Harness, repo: RepoRef) {
  const out = [];
  for (const side of SIDES) {
    const dir = h.gitDir(side, repo);
    const packs = [...Deno.readDirSync(`${dir}/objects/pack`)].map((e) => e.name);
    let loose = 0;
    for (const shard of Deno.readDirSync(`${dir}/objects`)) {
      if (/^[0-9a-f]{2}$/.test(shard.name)) {
        loose += [...Deno.readDirSync(`${dir}/objects/${shard.name}`)].length;
      }
    }
    out.push({
      packs: packs.filter((n) => n.endsWith(".pack")).length,
      cruft: packs.filter((n) => n.endsWith(".mtimes")).length,
      midx: packs.includes("multi-pack-index"),
      loose,
      packedRefs: await Deno.stat(`${dir}/packed-refs`).then(() => true, () => false),
      commitGraphChain: await Deno.stat(`${dir}/objects/info/commit-graphs/commit-graph-chain`)
        .then(() => true, () => false),
    });
  }
  assertEquals(out[0], out[1], "repository layout (ours, then the reference's)");
}

differentialTest(
  "OptimizeRepository: each strategy keeps refs and objects, fsck clean",
  async (h) => {
    const cases = [
      ...[undefined, 1, 2].map((strategy) => ({ fixture: "messy" as const, strategy })),
      ...[undefined, 2].flatMap((strategy) =>
        (["rich", "empty"] as const).map((fixture) => ({ fixture, strategy }))
      ),
    ];
    for (const { fixture, strategy } of cases) {
      const repository = await h.repo(fixture);
      await sameContent(h, repository);
      await h.compare(RS, "OptimizeRepository", { repository, strategy });
      await sameContent(h, repository);
      await layouts(h, repository);
      // A second run on the optimized repository, too.
      await h.compare(RS, "OptimizeRepository", { repository, strategy });
      await sameContent(h, repository);
      await layouts(h, repository);
    }
  },
);

differentialTest("OptimizeRepository: an object pool and its member stay complete", async (h) => {
  const pool: RepoRef = {
    storage_name: "default",
    relative_path: "@pools/ab/cd/abcd" + "e".repeat(60) + ".git",
  };
  const origin = await h.repo("messy");
  await h.compare("gitaly.ObjectPoolService", "CreateObjectPool", {
    object_pool: { repository: pool },
    origin,
  });
  await h.compare("gitaly.ObjectPoolService", "LinkRepositoryToObjectPool", {
    object_pool: { repository: pool },
    repository: origin,
  });
  for (const strategy of [1, 2]) {
    await h.compare(RS, "OptimizeRepository", { repository: pool, strategy });
    await h.compare(RS, "OptimizeRepository", { repository: origin, strategy });
    await sameContent(h, pool);
    await sameContent(h, origin);
  }
});

differentialTest("OptimizeRepository: bad input", async (h) => {
  const repository = await h.repo("empty", { shared: true });
  // Values the enum does not have, as a client with a newer proto would send them.
  for (const strategy of [7, -1] as unknown as OptimizeRepositoryRequest_Strategy[]) {
    await h.compare(RS, "OptimizeRepository", { repository, strategy });
  }
  await h.compare(RS, "OptimizeRepository", {
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
  });
  await h.compare(RS, "OptimizeRepository", {
    repository: { storage_name: "nope", relative_path: "x.git" },
  });
  await h.compare(RS, "OptimizeRepository", {});
});
