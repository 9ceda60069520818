/**
 * The pack-objects cache end to end: a server with `[pack_objects_cache]`
 * on serves clones through git's `uploadpack.packObjectsHook` (our `hooks`
 * subcommand and PackObjectsHookWithSidechannel); once a key was seen
 * before, identical clones, one after the other and concurrently, run
 * pack-objects once and get the same, valid repositories; different
 * requests get their own runs.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { gitalySshEnv, repoPayload } from "../helpers/gitaly_ssh.ts";
import { createRepo, git, gitOk } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

async function metric(server: TestServer, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

async function clone(server: TestServer, into: string, extra: string[] = []): Promise<void> {
  const env = gitalySshEnv({
    command: "upload-pack",
    address: server.unixAddress,
    payload: repoPayload("default", "repo.git"),
  });
  const out = await git(["clone", "-q", "--bare", ...extra, "git@gitaly:repo.git", into], { env });
  assertEquals(out.code, 0, out.stderr);
}

Deno.test("pack-objects cache: identical clones share one pack-objects run", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "pack-cache-" });
  const server = await startTestServer({
    extraToml: `prometheus_listen_addr = "127.0.0.1:0"\n` +
      `[pack_objects_cache]\nenabled = true\ndir = "${cacheDir}"\nmax_age = "5m"\n`,
  });
  const scratch = await Deno.makeTempDir({ prefix: "pack-cache-clones-" });
  try {
    const repo = join(server.storagePaths.default, "repo.git");
    await createRepo(repo, { commits: 20 });
    const lookups = async () => ({
      miss: await metric(server, "gitaly_pack_objects_cache_lookups_total", '{result="miss"}'),
      hit: await metric(server, "gitaly_pack_objects_cache_lookups_total", '{result="hit"}'),
    });
    // min_occurrences = 1: the first clone of a key is not cached, the second is.
    await clone(server, join(scratch, "first.git"));
    assertEquals(await lookups(), { miss: 1, hit: 0 });
    const firstRun = await metric(server, "gitaly_pack_objects_generated_bytes_total");
    await clone(server, join(scratch, "second.git"));
    assertEquals(await lookups(), { miss: 2, hit: 0 });
    const generated = await metric(server, "gitaly_pack_objects_generated_bytes_total");
    await Promise.all([1, 2, 3, 4].map((i) => clone(server, join(scratch, `c${i}.git`))));
    assertEquals(await lookups(), { miss: 2, hit: 4 });
    assertEquals(await metric(server, "gitaly_pack_objects_generated_bytes_total"), generated);
    const served = await metric(server, "gitaly_pack_objects_served_bytes_total");
    // The two runs, then four times the second run's entry (the runs' progress lines differ
    // with timing).
    assert(firstRun > 0 && generated > firstRun, `generated ${firstRun}, then ${generated}`);
    assertEquals(served, generated + 4 * (generated - firstRun));
    const head = await gitOk(["--git-dir", repo, "rev-parse", "HEAD"]);
    for (const name of ["first", "second", "c1", "c2", "c3", "c4"]) {
      const dir = join(scratch, `${name}.git`);
      assertEquals(await gitOk(["--git-dir", dir, "rev-parse", "HEAD"]), head);
      await gitOk(["--git-dir", dir, "fsck", "--no-progress"]);
    }
    // A shallow clone asks for something else: its own run.
    await clone(server, join(scratch, "shallow.git"), ["--depth", "1"]);
    assertEquals(await lookups(), { miss: 3, hit: 4 });
    assertEquals(
      await gitOk(["--git-dir", join(scratch, "shallow.git"), "rev-list", "--count", "HEAD"]),
      "1",
    );
    assertEquals(
      await metric(
        server,
        "gitaly_pack_objects_cache_enabled",
        `{dir="${cacheDir}",max_age="300"}`,
      ),
      1,
    );
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await Deno.remove(cacheDir, { recursive: true }).catch(() => {});
  }
});
