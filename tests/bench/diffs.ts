/**
 * Trees, diffs, blame and languages, ours beside the reference Gitaly 16.7
 * in one run: TreeEntry requests per second at concurrency 1 and 32,
 * CommitDiff of a 5,000-file diff with GitLab's limits on, RawBlame of a
 * 10,000-line file edited by 100 commits, and CommitLanguages of a
 * commit with about 30 MiB of source in four languages (warm: the warm-up
 * call fills each side's language cache, as GitLab's repeated calls do).
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
  serverStream,
  unary,
} from "./rpc_cases.ts";

const CS = "gitaly.CommitService";
const DS = "gitaly.DiffService";
const DIFF_FILES = 5000;
const BLAME_LINES = 10_000;
const BLAME_COMMITS = 100;
const LANGUAGE_FILES = 4000;
const encoder = new TextEncoder();

/**
 * The repository: `base` and `wide` differ in 5,000 files; `big.txt` has
 * 10,000 lines, each of the last 100 commits rewriting a hundred of them;
 * `src/` holds 4,000 files of about 10 KiB in four languages.
 */
async function buildRepo(path: string): Promise<void> {
  const git = (args: string[], stdin?: string) =>
    new Deno.Command("git", {
      args,
      env: gitEnv(),
      clearEnv: true,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "null",
    }).spawn();
  const init = await git(["init", "--bare", "--quiet", "--initial-branch=main", path]).status;
  if (!init.success) throw new Error("git init failed");
  const parts: string[] = [];
  const data = (text: string) => `data ${encoder.encode(text).length}\n${text}\n`;
  let when = 1_700_000_000;
  const commit = (ref: string, message: string, files: [string, string][]) => {
    when += 60;
    parts.push(
      `commit ${ref}\n`,
      `author Bench <bench@example.com> ${when} +0000\n`,
      `committer Bench <bench@example.com> ${when} +0000\n`,
      data(message),
    );
    for (const [name, content] of files) parts.push(`M 100644 inline ${name}\n${data(content)}`);
    parts.push("\n");
  };
  const lines = Array.from({ length: BLAME_LINES }, (_, i) => `line ${i}\n`);
  const sources: [string, string][] = [];
  const kinds = [
    ["c", "int f{i}(int x) { return x * {i}; }\n"],
    ["py", "def f{i}(x):\n    return x * {i}\n"],
    ["js", "export function f{i}(x) { return x * {i}; }\n"],
    ["go", "func F{i}(x int) int { return x * {i} }\n"],
  ];
  for (let i = 0; i < LANGUAGE_FILES; i++) {
    const [ext, template] = kinds[i % kinds.length];
    const body = Array.from({ length: 200 }, (_, n) => template.replaceAll("{i}", String(n)))
      .join("");
    sources.push([`src/f${i}.${ext}`, body]);
  }
  commit("refs/heads/main", "base\n", [
    ["big.txt", lines.join("")],
    ...sources,
    ...Array.from({ length: DIFF_FILES }, (_, i): [string, string] => [
      `wide/file${i}.txt`,
      `a\nb\nc\n${i}\n`,
    ]),
  ]);
  parts.push("reset refs/heads/base\nfrom refs/heads/main\n\n");
  for (let c = 0; c < BLAME_COMMITS; c++) {
    for (let l = c * 100; l < c * 100 + 100; l++) lines[l] = `line ${l} edited by ${c}\n`;
    commit("refs/heads/main", `edit ${c}\n`, [["big.txt", lines.join("")]]);
  }
  commit(
    "refs/heads/main",
    "wide change\n",
    Array.from({ length: DIFF_FILES }, (_, i): [string, string] => [
      `wide/file${i}.txt`,
      `a\nB\nc\n${i}\nmore\n`,
    ]),
  );
  parts.push("done\n");
  await importAndRepack(path, parts.join(""));
}

const CASES: Case[] = [
  {
    name: "TreeEntry (a small blob), concurrency 1",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(1, () =>
        // TreeEntry streams: Gitaly sends a blob this size in two messages.
        serverStream(t, CS, "TreeEntry", {
          revision: encoder.encode("main"),
          path: encoder.encode("src/f1.py"),
        }).then(() => {})),
  },
  {
    name: "TreeEntry (a small blob), concurrency 32",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(32, () =>
        // TreeEntry streams: Gitaly sends a blob this size in two messages.
        serverStream(t, CS, "TreeEntry", {
          revision: encoder.encode("main"),
          path: encoder.encode("src/f1.py"),
        }).then(() => {})),
  },
  {
    name: `CommitDiff, ${DIFF_FILES} files, limits on`,
    unit: "s",
    run: (t) =>
      seconds(() =>
        serverStream(t, DS, "CommitDiff", {
          left_commit_id: "base",
          right_commit_id: "main",
          enforce_limits: true,
          max_files: 5000,
          max_lines: 250000,
          max_bytes: 25_000_000,
          max_patch_bytes: 200_000,
          collapse_diffs: true,
          safe_max_files: 100,
          safe_max_lines: 5000,
          safe_max_bytes: 500_000,
        }), 3),
  },
  {
    name: `RawBlame, ${BLAME_LINES} lines, ${BLAME_COMMITS} commits`,
    unit: "s",
    run: (t) =>
      seconds(() =>
        serverStream(t, CS, "RawBlame", {
          revision: encoder.encode("main"),
          path: encoder.encode("big.txt"),
        }), 3),
  },
  {
    name: `CommitLanguages, ${LANGUAGE_FILES} source files (warm)`,
    unit: "s",
    run: (t) =>
      seconds(() => unary(t, CS, "CommitLanguages", { revision: encoder.encode("main") }), 3),
  },
];

/** Prints the section. */
export function diffsSection(): Promise<void> {
  return runSection({
    title: "Trees, diffs, blame and languages",
    service: CS,
    buildRepo,
    cases: CASES,
  });
}
