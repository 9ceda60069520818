/**
 * The merge-tree wrapper and the commit writer: clean and conflicting
 * merges, a merge base steered as `--merge-base` steers it, and commits
 * whose bytes follow from the signature alone.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { gitEnv, gitOk } from "../helpers/gitrepo.ts";
import {
  gitDate,
  signatureFromUser,
  timezoneOffset,
  UnknownTimezoneError,
  writeCommit,
} from "../../src/git/commit_writer.ts";
import {
  mergeTree,
  MergeTreeConflictError,
  MergeTreeUnrelatedHistoryError,
} from "../../src/git/merge_tree.ts";
import { testRunner, withTempDir } from "./helpers.ts";

const env = gitEnv();

/**
 * main: f with 1..7 and line 4 changed; side: two commits changing lines 2
 * and 6; other: line 4 changed differently; lonely: unrelated.
 */
async function history(dir: string): Promise<string> {
  const run = (...args: string[]) => gitOk(["-C", dir, ...args], { env });
  await gitOk(["init", "-q", "-b", "main", dir], { env });
  await Deno.writeTextFile(`${dir}/f`, "1\n2\n3\n4\n5\n6\n7\n");
  await run("add", "f");
  await run("commit", "-qm", "base");
  await run("checkout", "-qb", "side");
  await Deno.writeTextFile(`${dir}/f`, "1\ntwo\n3\n4\n5\n6\n7\n");
  await run("commit", "-qam", "c1");
  await Deno.writeTextFile(`${dir}/f`, "1\ntwo\n3\n4\n5\nsix\n7\n");
  await run("commit", "-qam", "c2");
  await run("checkout", "-q", "main");
  await Deno.writeTextFile(`${dir}/f`, "1\n2\n3\nfour\n5\n6\n7\n");
  await run("commit", "-qam", "m1");
  await run("checkout", "-qb", "other", "main^");
  await Deno.writeTextFile(`${dir}/f`, "1\n2\n3\nIV\n5\n6\n7\n");
  await run("commit", "-qam", "o1");
  await run("checkout", "-q", "--orphan", "lonely");
  await run("commit", "-qm", "lonely");
  await run("checkout", "-q", "main");
  return `${dir}/.git`;
}

/** f's content in `tree` (gitOk trims the last newline: put it back). */
async function file(gitDir: string, tree: string): Promise<string> {
  return `${await gitOk(["--git-dir", gitDir, "show", `${tree}:f`], { env })}\n`;
}

Deno.test("mergeTree merges, steers the merge base, reports conflicts", async () => {
  await withTempDir(async (dir) => {
    const gitDir = await history(dir);
    const git = testRunner();
    const merged = await mergeTree(git, gitDir, { ours: "main", theirs: "side" });
    assertEquals(await file(gitDir, merged.tree), "1\ntwo\n3\nfour\n5\nsix\n7\n");
    // A cherry-pick of side's tip alone: base side^, so line 2 stays.
    const picked = await mergeTree(git, gitDir, {
      ours: "main",
      theirs: "side",
      mergeBase: "side^",
    });
    assertEquals(await file(gitDir, picked.tree), "1\n2\n3\nfour\n5\nsix\n7\n");
    // A revert of c1 on side: ours side, theirs side~2, base side^.
    const reverted = await mergeTree(git, gitDir, {
      ours: "side",
      theirs: "side~2",
      mergeBase: "side^",
    });
    assertEquals(await file(gitDir, reverted.tree), "1\n2\n3\n4\n5\nsix\n7\n");
    // Picking other's line 4 onto main's.
    const error = await mergeTree(git, gitDir, {
      ours: "main",
      theirs: "other",
      mergeBase: "other^",
    }).catch((e) => e);
    assert(error instanceof MergeTreeConflictError, String(error));
    assertEquals(error.conflictedFiles(), ["f"]);
    assertEquals(error.conflictingFiles.map((f) => f.stage), [1, 2, 3]);
    assert(error.messages.some((m) => m.type.startsWith("CONFLICT")), JSON.stringify(error));
    for (const m of error.messages) assert(!/[0-9a-f]{40}/.test(m.message), m.message);
    const unrelated = await mergeTree(git, gitDir, { ours: "main", theirs: "lonely" })
      .catch((e) => e);
    assert(unrelated instanceof MergeTreeUnrelatedHistoryError, String(unrelated));
    const names = await mergeTree(git, gitDir, {
      ours: "main",
      theirs: "lonely",
      allowUnrelatedHistories: true,
      nameOnly: true,
    }).catch((e) => e);
    // Both added f: an add/add conflict, listed by name only.
    assert(names instanceof MergeTreeConflictError, String(names));
    assertEquals(names.conflictingFiles, [{ path: "f", mode: 0, oid: "", stage: 0 }]);
  });
});

Deno.test("writeCommit writes what the signature says", async () => {
  await withTempDir(async (dir) => {
    const gitDir = await history(dir);
    const git = testRunner();
    const tree = (await gitOk(["--git-dir", gitDir, "rev-parse", "main^{tree}"], { env })).trim();
    const parent = (await gitOk(["--git-dir", gitDir, "rev-parse", "main"], { env })).trim();
    const author = signatureFromUser(
      {
        name: new TextEncoder().encode("Jane"),
        email: "jane@example.com",
        timezone: "Asia/Kolkata",
      },
      { seconds: 1_700_000_000 },
    );
    const oid = await writeCommit(git, gitDir, {
      tree,
      parents: [parent],
      author,
      committer: author,
      message: "hello\n",
    });
    assertEquals(
      await gitOk(["--git-dir", gitDir, "cat-file", "commit", oid], { env }),
      `tree ${tree}\nparent ${parent}\nauthor Jane <jane@example.com> 1700000000 +0530\n` +
        `committer Jane <jane@example.com> 1700000000 +0530\n\nhello`,
    );
  });
});

Deno.test("time zones as Go's time.LoadLocation", () => {
  assertEquals(timezoneOffset("", 0), 0);
  assertEquals(timezoneOffset("UTC", 0), 0);
  assertEquals(timezoneOffset("America/New_York", 1_700_000_000), -300);
  assertEquals(timezoneOffset("Europe/London", 1_690_000_000), 60);
  assertEquals(gitDate({ seconds: 5, offsetMinutes: -570 }), "5 -0930");
  let thrown: unknown;
  try {
    signatureFromUser({ timezone: "Mars/Olympus" });
  } catch (error) {
    thrown = error;
  }
  assert(thrown instanceof UnknownTimezoneError);
  assertEquals(thrown.message, "unknown time zone Mars/Olympus");
});
