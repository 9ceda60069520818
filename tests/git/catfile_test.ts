import { CatfileCache, InvalidRevisionError } from "../../src/git/catfile.ts";
import type { GitRunner } from "../../src/git/command.ts";
import { objectHash } from "../../src/git/objectid.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import {
  bytesEqual,
  createTestRepo,
  readAll,
  type TestRepo,
  testRunner,
  withTempDir,
} from "./helpers.ts";

/** Runs `fn` with a fresh repository of `format`, a runner and a cache; cleans up. */
async function withCache(
  format: "sha1" | "sha256",
  fn: (cache: CatfileCache, repo: TestRepo, runner: GitRunner) => Promise<void>,
  options: ConstructorParameters<typeof CatfileCache>[1] = {},
): Promise<void> {
  const runner = testRunner();
  await withTempDir(async (dir) => {
    const repo = await createTestRepo(runner, dir, format);
    const cache = new CatfileCache(runner, options);
    try {
      await fn(cache, repo, runner);
    } finally {
      await cache.close();
    }
    assertEquals(runner.liveCount(), 0, "no git process outlives the cache");
  });
}

for (const format of ["sha1", "sha256"] as const) {
  for (const batchCommand of [true, false]) {
    const mode = batchCommand ? "--batch-command" : "--batch/--batch-check";
    Deno.test(`${format} ${mode}: info and object on a real repository`, async () => {
      await withCache(format, async (cache, repo) => {
        const hexLength = objectHash(format).hexLength;
        const commit = await cache.info(repo.path, "HEAD");
        assertEquals(commit?.oid, repo.commit);
        assertEquals(commit?.type, "commit");
        assertEquals(commit?.oid.length, hexLength);
        assertEquals(await cache.info(repo.path, "HEAD^{tree}"), {
          oid: repo.tree,
          type: "tree",
          size: commit ? (await cache.info(repo.path, repo.tree))!.size : 0,
        });
        assertEquals(await cache.info(repo.path, "HEAD:README"), {
          oid: repo.readme,
          type: "blob",
          size: repo.readmeContent.byteLength,
        });
        assertEquals(await cache.info(repo.path, "refs/heads/nope"), null);
        assertEquals(await cache.info(repo.path, objectHash(format).zeroOid), null);

        const readme = await cache.object(repo.path, "main:README");
        assert(readme);
        assertEquals(readme.oid, repo.readme);
        assert(bytesEqual(await readAll(readme.content), repo.readmeContent));

        const big = await cache.object(repo.path, repo.bigBlob);
        assert(big);
        assertEquals(big.size, repo.bigContent.byteLength);
        assert(bytesEqual(await readAll(big.content), repo.bigContent));

        const commitObject = await cache.object(repo.path, "HEAD");
        assert(commitObject);
        const text = new TextDecoder().decode(await readAll(commitObject.content));
        assert(text.startsWith(`tree ${repo.tree}\n`), text);
        assertEquals(await cache.object(repo.path, "HEAD:missing"), null);

        const many = await cache.infoMany(repo.path, ["HEAD", "nope", repo.readme]);
        assertEquals(many.map((info) => info?.oid ?? null), [repo.commit, null, repo.readme]);

        // All requests ran one at a time: one process of each kind, both idle.
        assertEquals(cache.stats(), { idle: 2, busy: 0 });
      }, { batchCommand });
    });
  }
}

Deno.test("empty blobs and BYOB readers", async () => {
  await withCache("sha1", async (cache, repo, runner) => {
    const empty = await runner.runText({
      gitDir: repo.path,
      args: ["hash-object", "-w", "--stdin"],
      stdin: new Uint8Array(0),
    });
    const object = await cache.object(repo.path, empty);
    assertEquals(object?.size, 0);
    assertEquals((await readAll(object!.content)).byteLength, 0);
    assertEquals(cache.stats().busy, 0);

    const big = await cache.object(repo.path, repo.bigBlob);
    const reader = big!.content.getReader({ mode: "byob" });
    let buffer = new Uint8Array(100_000);
    let offset = 0;
    let same = true;
    while (true) {
      const { value, done } = await reader.read(buffer);
      if (done) break;
      same &&= bytesEqual(value, repo.bigContent.subarray(offset, offset + value.byteLength));
      offset += value.byteLength;
      buffer = new Uint8Array(value.buffer);
    }
    assert(same && offset === repo.bigContent.byteLength);
  });
});

Deno.test("a cancelled read does not corrupt the next one", async () => {
  await withCache("sha1", async (cache, repo) => {
    const big = await cache.object(repo.path, repo.bigBlob);
    const reader = big!.content.getReader();
    await reader.read();
    await reader.cancel();
    assertEquals(cache.stats(), { idle: 0, busy: 0 });

    const readme = await cache.object(repo.path, repo.readme);
    assert(bytesEqual(await readAll(readme!.content), repo.readmeContent));
    const again = await cache.object(repo.path, repo.bigBlob);
    assert(bytesEqual(await readAll(again!.content), repo.bigContent));
  });
});

Deno.test("concurrent reads on one repository each get a process", async () => {
  await withCache("sha1", async (cache, repo) => {
    const readers = Array.from({ length: 6 }, async (_, i) => {
      const revision = i % 2 ? repo.bigBlob : "HEAD:README";
      const expected = i % 2 ? repo.bigContent : repo.readmeContent;
      const object = await cache.object(repo.path, revision);
      return bytesEqual(await readAll(object!.content), expected);
    });
    const infos = Array.from({ length: 6 }, () => cache.info(repo.path, "HEAD"));
    assertEquals(await Promise.all(readers), [true, true, true, true, true, true]);
    for (const info of await Promise.all(infos)) assertEquals(info?.oid, repo.commit);
    const { idle, busy } = cache.stats();
    assertEquals(busy, 0);
    assert(idle >= 2 && idle <= 12, `idle ${idle}`);
  });
});

Deno.test("LRU eviction and idle expiry kill processes", async () => {
  let spawned = 0;
  const runner = testRunner({ onSpawn: (subcommand) => subcommand === "cat-file" && spawned++ });
  await withTempDir(async (dir) => {
    const repos = [];
    for (const name of ["a", "b", "c"]) {
      await Deno.mkdir(`${dir}/${name}`);
      repos.push(await createTestRepo(runner, `${dir}/${name}`));
    }
    const [a, b, c] = repos;
    const cache = new CatfileCache(runner, {
      maxProcesses: 2,
      idleTimeoutMs: 60_000,
      batchCommand: true,
    });
    try {
      for (const repo of repos) await cache.info(repo.path, "HEAD");
      assertEquals(spawned, 3);
      assertEquals(cache.stats().idle, 2, "a was evicted");
      await cache.info(c.path, "HEAD");
      assertEquals(spawned, 3, "c is cached");
      await cache.info(a.path, "HEAD");
      assertEquals(spawned, 4, "a needed a new process; b is now evicted");
      await cache.info(c.path, "HEAD");
      await cache.info(a.path, "HEAD");
      assertEquals(spawned, 4);
      await cache.info(b.path, "HEAD");
      assertEquals(spawned, 5);

      cache.pruneIdle(Date.now() + 30_000);
      assertEquals(cache.stats().idle, 2, "not idle long enough yet");
      cache.pruneIdle(Date.now() + 60_000);
      assertEquals(cache.stats().idle, 0);
    } finally {
      await cache.close();
    }
    assertEquals(runner.liveCount(), 0, "evicted processes were reaped too");
  });
});

Deno.test("abort signals and bad revisions", async () => {
  await withCache("sha1", async (cache, repo) => {
    await assertRejects(cache.info(repo.path, "a\nb"), InvalidRevisionError);
    await assertRejects(cache.info(repo.path, ""), InvalidRevisionError);

    const abort = new AbortController();
    abort.abort(new Error("gone"));
    await assertRejects(cache.info(repo.path, "HEAD", { signal: abort.signal }), /gone/);

    const midStream = new AbortController();
    const big = await cache.object(repo.path, repo.bigBlob, { signal: midStream.signal });
    const reader = big!.content.getReader();
    await reader.read();
    midStream.abort(new Error("client left"));
    await assertRejects(reader.read(), /client left/);
    assertEquals(cache.stats().busy, 0);

    const readme = await cache.object(repo.path, repo.readme);
    assert(bytesEqual(await readAll(readme!.content), repo.readmeContent));
  });
});

Deno.test("a broken repository surfaces git's error", async () => {
  const runner = testRunner();
  await withTempDir(async (dir) => {
    const cache = new CatfileCache(runner);
    try {
      await assertRejects(cache.info(`${dir}/missing.git`, "HEAD"), /not a git repository/);
    } finally {
      await cache.close();
    }
  });
});

Deno.test("env is part of the cache key", async () => {
  await withCache("sha1", async (cache, repo) => {
    await cache.info(repo.path, "HEAD");
    await cache.info(repo.path, "HEAD", { env: { GIT_QUARANTINE_TEST: "1" } });
    assertEquals(cache.stats().idle, 2);
    await cache.info(repo.path, "HEAD", { env: { GIT_QUARANTINE_TEST: "1" } });
    assertEquals(cache.stats().idle, 2);
  });
});
