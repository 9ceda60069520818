/**
 * CommitService benchmark, ours beside the reference Gitaly 16.7 in one
 * run: FindCommit requests per second at concurrency 1 and 32 over one
 * connection, LastCommitForPath on a file with 5,000 commits of history
 * (changed at the tip, and one last changed 5,000 commits back),
 * ListCommits of all 5,000 commits, FindCommits of 1,000 with short stats,
 * and ListLastCommitsForTree of a 500-entry tree. Both servers get a copy of
 * one generated repository; cases alternate between them, best of three.
 * Without the reference only our figures are printed.
 *
 * @module
 */
import { gitEnv } from "../helpers/gitrepo.ts";
import {
  type Case,
  importAndRepack,
  requestsPerSecond,
  runSection,
  seconds,
  serverStream as stream,
  unary as call,
} from "./rpc_cases.ts";

const HISTORY_COMMITS = 5000;
const TREE_ENTRIES = 500;
const RUNS = 3;
const encoder = new TextEncoder();
const CS = "gitaly.CommitService";

/**
 * The bench repository: `history.txt` changed by each of 5,000 commits,
 * `cold.txt` only by the first, and `tree/` with 500 files, file i added
 * by commit 10·i (so each entry's last commit lies at a different depth).
 */
async function buildRepo(path: string): Promise<void> {
  const init = await new Deno.Command("git", {
    args: ["init", "--bare", "--quiet", "--initial-branch=main", path],
    env: gitEnv(),
  }).output();
  if (!init.success) throw new Error("git init failed");
  const parts: string[] = [];
  const data = (text: string) => `data ${encoder.encode(text).length}\n${text}\n`;
  for (let i = 0; i < HISTORY_COMMITS; i++) {
    const when = 1_700_000_000 + i * 60;
    parts.push(
      `commit refs/heads/main\n`,
      `author Bench <bench@example.com> ${when} +0000\n`,
      `committer Bench <bench@example.com> ${when} +0000\n`,
      data(`Commit ${i}\n\nChanges history.txt.\n`),
    );
    parts.push(`M 100644 inline history.txt\n${data(`version ${i}\n`)}`);
    if (i === 0) parts.push(`M 100644 inline cold.txt\n${data("cold\n")}`);
    if (i % 10 === 0 && i / 10 < TREE_ENTRIES) {
      const name = `tree/entry-${String(i / 10).padStart(3, "0")}.txt`;
      parts.push(`M 100644 inline ${name}\n${data(`${name}\n`)}`);
    }
    parts.push("\n");
  }
  parts.push("done\n");
  await importAndRepack(path, parts.join(""));
}

const CASES: Case[] = [
  {
    name: "FindCommit, concurrency 1",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(1, () => call(t, CS, "FindCommit", { revision: encoder.encode("main~7") })),
  },
  {
    name: "FindCommit, concurrency 32",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(
        32,
        () => call(t, CS, "FindCommit", { revision: encoder.encode("main~7") }),
      ),
  },
  {
    name: "LastCommitForPath, changed at the tip",
    unit: "s",
    run: (t) =>
      seconds(() =>
        call(t, CS, "LastCommitForPath", {
          revision: encoder.encode("main"),
          path: encoder.encode("history.txt"),
        }), 20),
  },
  {
    name: "LastCommitForPath, 5,000 commits back",
    unit: "s",
    run: (t) =>
      seconds(() =>
        call(t, CS, "LastCommitForPath", {
          revision: encoder.encode("main"),
          path: encoder.encode("cold.txt"),
        }), 20),
  },
  {
    name: "ListCommits, all 5,000 commits",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await stream(t, CS, "ListCommits", { revisions: ["main"] });
        if (messages < 1) throw new Error("no commits");
      }, 3),
  },
  {
    name: "FindCommits, 1,000 commits with stats",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await stream(t, CS, "FindCommits", {
          revision: encoder.encode("main"),
          limit: 1000,
          include_shortstat: true,
        });
        if (messages < 1) throw new Error("no commits");
      }, 3),
  },
  {
    name: "ListLastCommitsForTree, 500 entries",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await stream(t, CS, "ListLastCommitsForTree", {
          revision: "main",
          path: encoder.encode("tree/"),
          limit: TREE_ENTRIES,
        });
        if (messages !== TREE_ENTRIES / 10) throw new Error(`${messages} messages`);
      }),
  },
];

/** Prints the section. */
export function commitsSection(): Promise<void> {
  return runSection({
    title: `CommitService: ${HISTORY_COMMITS} commits, a ${TREE_ENTRIES}-entry tree`,
    service: CS,
    buildRepo,
    cases: CASES,
    runs: RUNS,
    warmUpFrom: 2,
  });
}
