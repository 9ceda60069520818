/**
 * OptimizeRepository in process: Gitaly's heuristics on a repository with
 * many packs and loose objects, the eager strategy, pools, stale data,
 * bad input, and a repack killed half-way.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, runGit } from "../../helpers/handler.ts";
import { buildMessyRepo } from "../../helpers/messy_repo.ts";

const h = await handlerHarness();
const RS = "gitaly.RepositoryService";
const HOUR = 3600 * 1000;

async function layout(path: string) {
  const packs = [];
  for await (const e of Deno.readDir(`${path}/objects/pack`)) packs.push(e.name);
  let loose = 0;
  for await (const shard of Deno.readDir(`${path}/objects`)) {
    if (!/^[0-9a-f]{2}$/.test(shard.name)) continue;
    for await (const _ of Deno.readDir(`${path}/objects/${shard.name}`)) loose++;
  }
  return {
    packs: packs.filter((n) => n.endsWith(".pack")).length,
    cruft: packs.filter((n) => n.endsWith(".mtimes")).length,
    midx: packs.includes("multi-pack-index"),
    loose,
  };
}

/** Refs and the sorted reachable object set: what optimization must never change. */
async function content(path: string) {
  const refs = await runGit(["-C", path, "for-each-ref", "--format=%(refname) %(objectname)"]);
  const objects = (await runGit(["-C", path, "rev-list", "--objects", "--all"])).split("\n").sort();
  return { refs, objects };
}

async function fsckClean(path: string) {
  await runGit(["-C", path, "fsck", "--no-progress", "--no-dangling"]);
}

async function optimize(repository: unknown, strategy?: number) {
  const result = await h.call(RS, "OptimizeRepository", { repository, strategy });
  assert(result.ok, JSON.stringify(result));
}

async function age(path: string, ms: number) {
  const at = new Date(Date.now() - ms);
  await Deno.utime(path, at, at);
}

// One messy repository shared by the heuristic steps below (built once: slow disks).
const messy = await h.createRepo(
  "messy.git",
  (_git, path) => buildMessyRepo(path, { packs: 7, looseObjects: 1300, unreachable: 3 }),
);
const messyPath = h.repoPath(messy);
const before = await content(messyPath);

Deno.test("heuristical: many packs and no full repack yet -> full repack with cruft pack, MIDX, bitmap, commit-graph", async () => {
  const start = await layout(messyPath);
  assertEquals(start.packs, 7);
  assert(start.loose > 1024, `${start.loose} loose objects`);
  await optimize(messy);
  const after = await layout(messyPath);
  assertEquals(after.loose, 0);
  // One pack of reachable objects, one cruft pack with the three recent unreachable blobs.
  assertEquals({ packs: after.packs, cruft: after.cruft, midx: after.midx }, {
    packs: 2,
    cruft: 1,
    midx: true,
  });
  assertEquals(await content(messyPath), before);
  await fsckClean(messyPath);
  const unreachable = await runGit(
    ["-C", messyPath, "hash-object", "--stdin"],
    undefined,
    "unreachable 0\n",
  );
  await runGit(["-C", messyPath, "cat-file", "-e", unreachable]);
  await Deno.stat(`${messyPath}/.gitaly-full-repack-timestamp`);
  const chain = await Deno.readTextFile(
    `${messyPath}/objects/info/commit-graphs/commit-graph-chain`,
  );
  assert(chain.trim().length > 0);
  const bitmaps = [...Deno.readDirSync(`${messyPath}/objects/pack`)].filter((e) =>
    e.name.endsWith(".bitmap")
  );
  assert(bitmaps.length > 0, "a bitmap");
});

Deno.test("heuristical: well packed -> nothing; >1024 loose objects -> one incremental pack", async () => {
  const packed = await layout(messyPath);
  await optimize(messy);
  assertEquals(await layout(messyPath), packed);
  await buildMessyRepo(messyPath, { packs: 0, looseObjects: 1200, seed: "second" });
  const grown = await content(messyPath);
  await optimize(messy);
  const after = await layout(messyPath);
  assertEquals({ loose: after.loose, packs: after.packs }, { loose: 0, packs: packed.packs + 1 });
  assertEquals(await content(messyPath), grown);
  await fsckClean(messyPath);
});

Deno.test("eager: everything repacked, refs packed, old unreachable objects pruned, recent kept", async () => {
  const repo = await h.createRepo("eager.git", async (git, path) => {
    await buildMessyRepo(path, { packs: 2, looseObjects: 0 });
    for (let i = 0; i < 20; i++) await git("update-ref", `refs/heads/b${i}`, "main");
  });
  const path = h.repoPath(repo);
  const old = await runGit(["-C", path, "hash-object", "-w", "--stdin"], undefined, "old\n");
  const recent = await runGit(["-C", path, "hash-object", "-w", "--stdin"], undefined, "new\n");
  await age(`${path}/objects/${old.slice(0, 2)}/${old.slice(2)}`, 15 * 24 * HOUR);
  const wanted = await content(path);
  await optimize(repo, 2);
  assertEquals(await content(path), wanted);
  await fsckClean(path);
  assertEquals((await runGit(["-C", path, "for-each-ref", "refs/heads/b0"])).length > 0, true);
  await assertMissing(path, old);
  await runGit(["-C", path, "cat-file", "-e", recent]);
  const looseRefs = [...Deno.readDirSync(`${path}/refs/heads`)];
  assertEquals(looseRefs.length, 0);
});

async function assertMissing(path: string, oid: string) {
  const out = await new Deno.Command("git", { args: ["-C", path, "cat-file", "-e", oid] }).output();
  assert(!out.success, `${oid} should be gone`);
}

Deno.test("object pools are never pruned: old unreachable objects stay", async () => {
  const hash = "a".repeat(64);
  const pool = await h.createRepo(
    `@pools/aa/aa/${hash}.git`,
    (_git, path) => buildMessyRepo(path, { packs: 2, looseObjects: 0 }),
  );
  const path = h.repoPath(pool);
  const old = await runGit(["-C", path, "hash-object", "-w", "--stdin"], undefined, "pooled\n");
  await age(`${path}/objects/${old.slice(0, 2)}/${old.slice(2)}`, 30 * 24 * HOUR);
  await optimize(pool, 2);
  await runGit(["-C", path, "cat-file", "-e", old]);
  assertEquals((await layout(path)).loose, 0);
  await fsckClean(path);
});

Deno.test("stale data: old locks, temporary objects, empty ref directories and server info go; fresh locks stay", async () => {
  const repo = await h.createRepo(
    "stale.git",
    (_git, path) => buildMessyRepo(path, { packs: 1, looseObjects: 0 }),
  );
  const path = h.repoPath(repo);
  const old = [
    "config.lock",
    "packed-refs.lock",
    "refs/heads/gone.lock",
    "objects/pack/tmp_pack_x",
    "info/refs",
  ];
  for (const file of old) {
    await Deno.writeTextFile(`${path}/${file}`, "x");
    await age(`${path}/${file}`, 8 * 24 * HOUR);
  }
  await Deno.writeTextFile(`${path}/HEAD.lock`, "fresh");
  await Deno.mkdir(`${path}/refs/empty/nested`, { recursive: true });
  await age(`${path}/refs/empty/nested`, 2 * 24 * HOUR);
  await age(`${path}/refs/empty`, 2 * 24 * HOUR);
  await optimize(repo);
  for (const file of old) {
    assert(!await exists(`${path}/${file}`), `${file} removed`);
  }
  assert(await exists(`${path}/HEAD.lock`), "fresh lock kept");
  assert(!await exists(`${path}/refs/empty`), "empty ref directories removed");
  assert(await exists(`${path}/refs/heads`));
});

async function exists(path: string) {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("bad input: unknown strategy, missing repository", async () => {
  const bad = await h.call(RS, "OptimizeRepository", { repository: messy, strategy: 7 });
  assertEquals(bad.ok ? null : [bad.codeName, bad.message], [
    "InvalidArgument",
    "unsupported optimization strategy 7",
  ]);
  const missing = await h.call(RS, "OptimizeRepository", {
    repository: { storage_name: "default", relative_path: "nope.git" },
  });
  assertEquals(missing.ok ? null : missing.codeName, "NotFound");
  const unset = await h.call(RS, "OptimizeRepository", {});
  assertEquals(unset.ok ? null : unset.codeName, "InvalidArgument");
});

Deno.test("a repack killed half-way leaves the repository readable and fsck clean", async () => {
  const repo = await h.createRepo(
    "killed.git",
    (_git, path) => buildMessyRepo(path, { packs: 6, looseObjects: 1100 }),
  );
  const path = h.repoPath(repo);
  const wanted = await content(path);
  const controller = new AbortController();
  const call = h.call(RS, "OptimizeRepository", { repository: repo, strategy: 2 }, {
    signal: controller.signal,
  });
  // Abort once git is running the repack.
  for (let i = 0; i < 2000 && h.deps.git.liveCount() === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  const result = await call;
  assert(!result.ok, "the call was cancelled");
  assertEquals(h.deps.git.liveCount(), 0);
  assertEquals(await content(path), wanted);
  await fsckClean(path);
  // And the next optimization completes it.
  await optimize(repo, 2);
  assertEquals(await content(path), wanted);
  await fsckClean(path);
});

Deno.test("clones and pushes while the repository is optimized all succeed; nothing pushed is lost", async () => {
  const repo = await h.createRepo(
    "busy.git",
    (_git, path) => buildMessyRepo(path, { packs: 6, looseObjects: 1100 }),
  );
  const path = h.repoPath(repo);
  const scratch = await Deno.makeTempDir({ prefix: "optimize-busy-" });
  const work = `${scratch}/work`;
  await runGit(["clone", "-q", "--no-local", path, work]);
  let done = false;
  const optimizing = optimize(repo, 2).finally(() => done = true);
  const pushed: Record<string, string> = {};
  let clones = 0;
  for (let i = 0; !done || i < 2; i++) {
    await runGit(["clone", "-q", "--bare", "--no-local", path, `${scratch}/clone-${i}.git`]);
    clones++;
    await Deno.writeTextFile(`${work}/pushed-${i}.txt`, `push ${i}\n`);
    await runGit(["add", "-A"], work);
    await runGit(["commit", "-qm", `push ${i}`], work);
    await pushRacingPrunePacked(work, `HEAD:refs/heads/push-${i}`);
    pushed[`refs/heads/push-${i}`] = await runGit(["rev-parse", "HEAD"], work);
  }
  await optimizing;
  await optimize(repo, 2);
  for (const [ref, oid] of Object.entries(pushed)) {
    assertEquals(await runGit(["-C", path, "rev-parse", ref]), oid);
  }
  await fsckClean(path);
  assert(clones >= 2);
  await Deno.remove(scratch, { recursive: true });
});

/**
 * Pushes to `origin`, once more if git lost its own race: receive-pack moves the
 * quarantined objects into fan-out directories it creates, and the repack's
 * `prune-packed` (Gitaly's too) removes fan-out directories that are empty at that
 * moment, so the move can fail with "unable to migrate objects to permanent
 * storage". The push is refused whole (nothing half-written); its retry succeeds.
 */
async function pushRacingPrunePacked(work: string, refspec: string): Promise<void> {
  try {
    await runGit(["push", "-q", "origin", refspec], work);
  } catch (error) {
    if (!String(error).includes("unable to migrate objects to permanent storage")) throw error;
    await runGit(["push", "-q", "origin", refspec], work);
  }
}

globalThis.addEventListener("unload", () => {
  h.close();
});
