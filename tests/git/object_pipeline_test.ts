/**
 * The object pipelines (rev-list and --batch-all-objects enumerations,
 * batched info lookups) and the revisions of a git command description.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { CatfileCache } from "../../src/git/catfile.ts";
import { commandArgs, GitArgumentError, GitRunner } from "../../src/git/command.ts";
import {
  allObjects,
  objectInfos,
  ObjectNotFoundError,
  PipelineCommandError,
  revList,
} from "../../src/git/object_pipeline.ts";
import { runGit } from "../helpers/handler.ts";

Deno.test("commandArgs: revisions keep their order; only pseudo revisions may start with '-'", () => {
  assertEquals(
    commandArgs({ name: "rev-list", flags: ["--objects"], revisions: ["main", "--not", "--all"] }),
    ["rev-list", "--objects", "main", "--not", "--all"],
  );
  assertEquals(commandArgs({ name: "rev-list", revisions: ["--glob=refs/heads/*", "^x"] }), [
    "rev-list",
    "--glob=refs/heads/*",
    "^x",
  ]);
  assertThrows(
    () => commandArgs({ name: "rev-list", revisions: ["--output=/tmp/x"] }),
    GitArgumentError,
  );
  assertThrows(() => commandArgs({ name: "rev-list", revisions: ["-n1"] }), GitArgumentError);
  assertThrows(() => commandArgs({ name: "rev-list", revisions: ["a\0b"] }), GitArgumentError);
});

async function withRepo(fn: (git: GitRunner, gitDir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pipeline-" });
  const git = new GitRunner();
  try {
    await runGit(["init", "--bare", "-q", "--initial-branch=main", dir]);
    const blobs = Array.from(
      { length: 600 },
      (_, i) => `blob\nmark :${i + 1}\ndata ${String(i).length}\n${i}\n`,
    );
    const files = Array.from({ length: 600 }, (_, i) => `M 100644 :${i + 1} f/${i}\n`);
    await runGit(
      ["fast-import", "--quiet"],
      dir,
      [
        ...blobs,
        "commit refs/heads/main\ncommitter C <c@e> 1700000000 +0000\ndata 2\nc\n",
        ...files,
        "\n",
      ].join(""),
    );
    await fn(git, dir);
  } finally {
    await git.killAll();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("revList: objects with names; stopping early kills rev-list", async () => {
  await withRepo(async (git, gitDir) => {
    const blobs = [];
    for await (
      const o of revList(git, { gitDir, revisions: ["main"], objects: true, objectType: "blob" })
    ) {
      blobs.push(o);
    }
    assertEquals(blobs.length, 600);
    assert(blobs.every((b) => b.name && new TextDecoder().decode(b.name).startsWith("f/")));
    for await (const _ of revList(git, { gitDir, revisions: ["--all"], objects: true })) break;
    assertEquals(git.liveCount(), 0);
    await assertRejects(
      (async () => {
        for await (const _ of revList(git, { gitDir, revisions: ["nope"] })) {
          // nothing
        }
      })(),
      PipelineCommandError,
    );
  });
});

Deno.test("allObjects and objectInfos: every object, looked up in batches", async () => {
  await withRepo(async (git, gitDir) => {
    const all = [];
    for await (const info of allObjects(git, { gitDir })) all.push(info);
    assertEquals(all.filter((o) => o.type === "blob").length, 600);
    const catfile = new CatfileCache(git);
    try {
      const listed = revList(git, {
        gitDir,
        revisions: ["main"],
        objects: true,
        objectType: "blob",
      });
      let count = 0;
      for await (const info of objectInfos(catfile, listed, { gitDir })) {
        assertEquals(info.type, "blob");
        assert(info.name !== undefined);
        count++;
      }
      assertEquals(count, 600);
      const missing = (async function* () {
        yield { oid: "0".repeat(40) };
      })();
      await assertRejects(
        (async () => {
          for await (const _ of objectInfos(catfile, missing, { gitDir })) {
            // nothing
          }
        })(),
        ObjectNotFoundError,
      );
    } finally {
      await catfile.close();
    }
  });
});

Deno.test("CatfileCache.readMany: many whole objects per round trip, null for missing ones", async () => {
  await withRepo(async (git, gitDir) => {
    const catfile = new CatfileCache(git);
    try {
      const oids: string[] = [];
      for await (
        const o of revList(git, { gitDir, revisions: ["main"], objects: true, objectType: "blob" })
      ) {
        oids.push(o.oid);
      }
      const wanted = [...oids, "0".repeat(40), "main:f/7"];
      const results = [];
      for await (const result of catfile.readMany(gitDir, wanted, { batch: 50 })) {
        results.push(result);
      }
      assertEquals(results.length, 602);
      assertEquals(results[600].object, null);
      assertEquals(new TextDecoder().decode(results[601].object!.data), "7");
      assertEquals(catfile.stats(), { idle: 1, busy: 0 });
      // Stopping early kills the process; the next request gets a fresh one.
      for await (const _ of catfile.readMany(gitDir, oids, { batch: 50 })) break;
      assertEquals(catfile.stats().busy, 0);
      const info = await catfile.info(gitDir, "main:f/7");
      assertEquals(info?.size, 1);
    } finally {
      await catfile.close();
    }
  });
});
