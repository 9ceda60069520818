/**
 * The update-ref transaction helper: what git's messages mean, and that an
 * aborted or killed transaction changes nothing and leaves no lock.
 *
 * @module
 */
import { join } from "node:path";
import { parseRefUpdateFailure, RefUpdateError, RefUpdater } from "../../src/git/updateref.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { gitOk, initBareRepo } from "../helpers/gitrepo.ts";
import { testRunner, withTempDir } from "./helpers.ts";

const encoder = new TextEncoder();
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

Deno.test("parseRefUpdateFailure: git's messages as Gitaly reads them", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(40);
  const cases: [string, unknown][] = [
    [
      "fatal: prepare: cannot lock ref 'refs/heads/x': Unable to create '/r/refs/heads/x.lock': File exists.\n\nAnother git process seems to be running\n",
      { kind: "locked", reference: "refs/heads/x" },
    ],
    ["fatal: invalid ref format: refs/heads/a..b\n", {
      kind: "invalid-format",
      reference: "refs/heads/a..b",
    }],
    [
      "fatal: commit: cannot lock ref 'refs/heads/main/x': 'refs/heads/main' exists; cannot create 'refs/heads/main/x'\n",
      {
        kind: "file-directory-conflict",
        conflicting: "refs/heads/main/x",
        existing: "refs/heads/main",
      },
    ],
    [
      "fatal: prepare: cannot lock ref 'refs/heads/q': cannot process 'refs/heads/q' and 'refs/heads/q/r' at the same time\n",
      { kind: "in-transaction-conflict", first: "refs/heads/q", second: "refs/heads/q/r" },
    ],
    [
      `fatal: prepare: cannot update ref 'refs/heads/x': trying to write ref 'refs/heads/x' with nonexistent object ${a}\n`,
      { kind: "nonexistent-object", reference: "refs/heads/x", oid: a },
    ],
    [
      `fatal: prepare: cannot update ref 'refs/heads/t': trying to write non-commit object ${a} to branch 'refs/heads/t'\n`,
      { kind: "non-commit-object", reference: "refs/heads/t", oid: a },
    ],
    [
      `fatal: prepare: cannot lock ref 'refs/heads/main': is at ${a} but expected ${b}\n`,
      { kind: "mismatch", reference: "refs/heads/main", actual: a, expected: b },
    ],
    ["fatal: prepare: cannot lock ref 'refs/heads/main': reference already exists\n", {
      kind: "already-exists",
      reference: "refs/heads/main",
    }],
    [
      "fatal: prepare: cannot lock ref 'refs/heads/x': unable to resolve reference 'refs/heads/x'\n",
      { kind: "unresolved", reference: "refs/heads/x" },
    ],
    ["fatal: prepare: multiple updates for ref 'refs/heads/q' not allowed\n", {
      kind: "multiple-updates",
      reference: "refs/heads/q",
    }],
    ["fatal: something else\n", undefined],
    ["", undefined],
  ];
  for (const [stderr, expected] of cases) {
    assertEquals(parseRefUpdateFailure(stderr), expected, stderr);
  }
});

async function repoWithBranch(dir: string): Promise<{ path: string; a: string; b: string }> {
  const path = join(dir, "repo.git");
  await initBareRepo(path);
  const b = await gitOk(["--git-dir", path, "commit-tree", "-m", "b", EMPTY_TREE]);
  const a = await gitOk(["--git-dir", path, "commit-tree", "-m", "a", "-p", b, EMPTY_TREE]);
  await gitOk(["--git-dir", path, "update-ref", "refs/heads/main", a]);
  return { path, a, b };
}

const main = encoder.encode("refs/heads/main");
const branchOf = (path: string) => gitOk(["--git-dir", path, "rev-parse", "refs/heads/main"]);
const lockOf = (path: string) => join(path, "refs/heads/main.lock");
const exists = (file: string) => Deno.stat(file).then(() => true, () => false);

Deno.test("RefUpdater: commit applies; close before commit aborts and unlocks", async () => {
  await withTempDir(async (dir) => {
    const { path, a, b } = await repoWithBranch(dir);
    const runner = testRunner();
    const aborted = await RefUpdater.start(runner, path);
    await aborted.update(main, b, a);
    await aborted.prepare();
    assert(await exists(lockOf(path)), "prepare locks the reference");
    await aborted.close();
    assertEquals(await exists(lockOf(path)), false);
    assertEquals(await branchOf(path), a);

    const applied = await RefUpdater.start(runner, path);
    await applied.update(main, b, a);
    await applied.prepare();
    await applied.commit();
    assertEquals(await branchOf(path), b);
    assertEquals(runner.liveCount(), 0);
  });
});

/**
 * Starts a transaction moving main from A to B, prepares it (main is locked),
 * aborts the signal, runs `then`, and checks that git is gone, unlocked and
 * main unchanged.
 */
async function abortAfterPrepare(then: (updater: RefUpdater, live: () => number) => Promise<void>) {
  await withTempDir(async (dir) => {
    const { path, a, b } = await repoWithBranch(dir);
    const runner = testRunner();
    const controller = new AbortController();
    const updater = await RefUpdater.start(runner, path, { signal: controller.signal });
    await updater.update(main, b, a);
    await updater.prepare();
    controller.abort(new Error("cancelled"));
    await then(updater, () => runner.liveCount());
    assertEquals(runner.liveCount(), 0);
    assertEquals(await exists(lockOf(path)), false);
    assertEquals(await branchOf(path), a);
  });
}

Deno.test("RefUpdater: an abort after prepare ends git's input; git aborts and unlocks", async () => {
  await abortAfterPrepare((updater) => updater.close());
});

Deno.test("RefUpdater: a failure is a RefUpdateError and nothing changes", async () => {
  await withTempDir(async (dir) => {
    const { path, a, b } = await repoWithBranch(dir);
    const runner = testRunner();
    const updater = await RefUpdater.start(runner, path);
    await updater.update(encoder.encode("refs/heads/new"), a, "0".repeat(40));
    await updater.update(main, a, b);
    const error = await assertRejects(updater.prepare(), RefUpdateError);
    assertEquals((error as RefUpdateError).failure, {
      kind: "mismatch",
      reference: "refs/heads/main",
      actual: a,
      expected: b,
    });
    // Later calls report the same failure.
    await assertRejects(updater.commit(), RefUpdateError);
    await updater.close();
    assertEquals(runner.liveCount(), 0);
    assertEquals(await branchOf(path), a);
    assertEquals(await exists(join(path, "refs/heads/new")), false);
  });
});

Deno.test("RefUpdater: after an abort git exits by itself, even if nobody closes the updater", async () => {
  await abortAfterPrepare(async (updater, live) => {
    for (let i = 0; i < 50 && live() > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(live(), 0);
    // The next step reports the failure rather than hanging.
    await assertRejects(updater.commit(), RefUpdateError);
    await updater.close();
  });
});
