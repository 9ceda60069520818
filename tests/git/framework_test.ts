/**
 * The git layer's safety nets: command descriptions, revision rules, the spawn bound.
 *
 * @module
 */
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { commandArgs, GitArgumentError, GitRunner } from "../../src/git/command.ts";
import { revisionProblem, validateRevision } from "../../src/git/revision.ts";
import { SpawnLimit, SpawnTimeoutError } from "../../src/git/spawn_limit.ts";

Deno.test("command description: flags, positional args, then -- and the rest", () => {
  assertEquals(
    commandArgs({ name: "log", flags: ["--format=%H"], args: ["main"], postSepArgs: ["-p"] }),
    ["log", "--format=%H", "main", "--", "-p"],
  );
  assertEquals(commandArgs({ name: "for-each-ref" }), ["for-each-ref"]);
  assertThrows(() => commandArgs({ name: "log", args: ["--output=/tmp/x"] }), GitArgumentError);
  assertThrows(() => commandArgs({ name: "log", postSepArgs: ["a\0b"] }), GitArgumentError);
  assertThrows(() => commandArgs({ name: "log", flags: ["main"] }), TypeError);
  assertThrows(() => commandArgs({ name: "--exec-path" }), TypeError);
});

Deno.test("command description: a user's `-x` never reaches git as an option", async () => {
  const git = new GitRunner();
  await assertRejects(
    git.run({ command: { name: "rev-parse", args: ["--git-dir"] } }),
    (e) => e instanceof GitArgumentError && /can't start with '-'/.test(e.message),
  );
});

Deno.test("revisions: Gitaly's rules and messages", () => {
  assertEquals(revisionProblem(""), "empty revision");
  assertEquals(revisionProblem("-x"), "revision can't start with '-'");
  assertEquals(revisionProblem("a\0b"), "revision can't contain NUL");
  assertEquals(revisionProblem("a b"), "revision can't contain whitespace");
  assertEquals(revisionProblem("a:b"), "revision can't contain ':'");
  assertEquals(revisionProblem("a\\b"), "revision can't contain '\\'");
  assertEquals(revisionProblem("HEAD:a b", { allowPathScoped: true }), undefined);
  assertEquals(revisionProblem("--all", { allowPseudo: true }), undefined);
  assertEquals(revisionProblem("--glob=refs/x", { allowPseudo: true }), undefined);
  assertEquals(
    revisionProblem("--output=x", { allowPseudo: true }),
    "revision can't start with '-'",
  );
  assertEquals(revisionProblem("", { allowEmpty: true }), undefined);
  assertEquals(revisionProblem("main"), undefined);
  assertThrows(
    () => validateRevision("-x", { context: "invalid revision" }),
    /invalid revision: revision can't start with '-'/,
  );
});

Deno.test("spawn limit: callers beyond the bound queue, in order, and time out", async () => {
  const lengths: number[] = [];
  let timeouts = 0;
  const limit = new SpawnLimit(2, 50, {
    onQueueLength: (n) => lengths.push(n),
    onTimeout: () => timeouts++,
  });
  const a = await limit.acquire();
  const b = await limit.acquire();
  assertEquals(limit.inUse, 2);
  const order: string[] = [];
  const c = limit.acquire().then((release) => {
    order.push("c");
    return release;
  });
  const d = limit.acquire().then((release) => {
    order.push("d");
    return release;
  });
  assertEquals(limit.waiting, 2);
  a();
  a(); // releasing twice gives back one token only
  (await c)();
  b();
  (await d)();
  assertEquals(order, ["c", "d"]);
  assertEquals(limit.inUse, 0);
  const x = await limit.acquire();
  const y = await limit.acquire();
  await assertRejects(limit.acquire(), SpawnTimeoutError);
  assertEquals(timeouts, 1);
  const aborted = new AbortController();
  const waiting = limit.acquire(aborted.signal);
  aborted.abort(new Error("gone"));
  await assertRejects(waiting, /gone/);
  x();
  y();
  assertEquals(limit.waiting, 0);
  assert(lengths.length > 0);
});

Deno.test("spawn limit: the runner gives the slot back when git is reaped", async () => {
  const git = new GitRunner({ maxProcesses: 1, spawnTimeoutMs: 5_000 });
  const results = await Promise.all(
    [1, 2, 3].map(() => git.runText({ command: { name: "version" } })),
  );
  assertEquals(results.length, 3);
  assertEquals(git.spawnStats(), { running: 0, waiting: 0 });
});
