/**
 * CommitService's commit-answering RPCs in process: revision lists with
 * pseudo revisions, early stops and cancellation leaving no git behind,
 * parsing of FindCommits' log output, signed text in 128 KiB messages,
 * paths that are not UTF-8, and ListLastCommitsForTree's batches.
 *
 * @module
 */
import { join } from "node:path";
import { pathspecArgs, timeFlag } from "../../../src/service/commit/history.ts";
import { revisionArgs } from "../../../src/service/commit/revision_list.ts";
import { buildLog, LOG } from "../../differential/fixtures.ts";
import { assert, assertEquals, assertThrows } from "../../helpers/assert.ts";
import { handlerHarness, repository, runGit } from "../../helpers/handler.ts";

const CS = "gitaly.CommitService";
/** Bytes fields must be bytes here (a string would be read as base64). */
const b = (text: string) => new TextEncoder().encode(text);
const h = await handlerHarness({ bytes: "text" });
await buildLog(join(h.storagePath(), "h.git"));
const repo = repository("h.git");
const hGit = (...args: string[]) => runGit(["--git-dir", h.repoPath(repo), ...args]);

type Commit = { id: string; subject?: string; short_stats?: Record<string, number> };
const commitsOf = (responses: Record<string, unknown>[]) =>
  responses.flatMap((r) => (r.commits ?? []) as Commit[]);

Deno.test("revisionArgs: pseudo revisions as flags, --not folded into the signs", () => {
  assertEquals(revisionArgs(["main", "--not", "a", "^b", "--all"]), {
    flags: ["--not", "--all", "--not"],
    args: ["main", "^a", "b"],
  });
  assertEquals(revisionArgs(["--branches=f*", "x", "--not", "--not", "y"]), {
    flags: ["--branches=f*"],
    args: ["x", "y"],
  });
  assertEquals(revisionArgs(["a..b"]), { flags: [], args: ["a..b"] });
  assertThrows(() => revisionArgs(["main", "--not", "a..b"]), /after --not/);
  assertThrows(() => revisionArgs(["-x"]), /^invalid revision: revision can't start with '-'$/);
  assertThrows(() => revisionArgs(["a b"]), /whitespace/);
});

Deno.test("timeFlag and pathspecArgs", () => {
  assertEquals(
    timeFlag("--before", { seconds: 1700000000 }),
    "--before=2023-11-14 22:13:20 +0000 UTC",
  );
  assertEquals(
    timeFlag("--after", { seconds: 1700000000, nanos: 500_000_000 }),
    "--after=2023-11-14 22:13:20.5 +0000 UTC",
  );
  assertEquals(pathspecArgs([]), { flags: [] });
  assertEquals(pathspecArgs(["a", "b\nc"]), { flags: [], postSepArgs: ["a", "b\nc"] });
  const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
  const viaStdin = pathspecArgs(["a", latin1]);
  assertEquals(viaStdin.flags, ["--stdin"]);
  assertEquals([...viaStdin.stdin!], [...new TextEncoder().encode("--\na\n"), ...latin1, 0x0a]);
});

Deno.test("ListCommits: a page limit stops rev-list; nothing keeps running", async () => {
  const result = await h.call(CS, "ListCommits", {
    repository: repo,
    revisions: ["main"],
    pagination_params: { limit: 3 },
  });
  assert(result.ok);
  assertEquals(commitsOf(result.responses).length, 3);
  assertEquals(h.deps.git.liveCount(), h.deps.catfile.stats().idle, "only cached cat-file runs");
  const token = commitsOf(result.responses)[2].id;
  const next = await h.call(CS, "ListCommits", {
    repository: repo,
    revisions: ["main"],
    pagination_params: { limit: 2, page_token: token },
  });
  assert(next.ok);
  const expected = (await hGit("rev-list", "--max-count=5", "main")).split("\n").slice(3);
  assertEquals(commitsOf(next.responses).map((c) => c.id), expected);
});

Deno.test("ListCommits: a cancelled call ends git", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("client went away")), 1);
  const result = await h.call(CS, "ListCommits", {
    repository: repo,
    revisions: ["--all"],
  }, { signal: controller.signal });
  assert(!result.ok);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(h.deps.git.liveCount(), h.deps.catfile.stats().idle, "only cached cat-file runs");
});

Deno.test("ListCommits: --not with a range is refused precisely", async () => {
  const result = await h.call(CS, "ListCommits", {
    repository: repo,
    revisions: ["main", "--not", "topic..side"],
  });
  assert(!result.ok);
  assertEquals(result.codeName, "InvalidArgument");
});

Deno.test("FindCommits: short stats, references and offsets with --follow", async () => {
  const result = await h.call(CS, "FindCommits", {
    repository: repo,
    limit: 4,
    include_shortstat: true,
    include_referenced_by: [b("refs/heads/"), b("refs/tags/")],
    trailers: true,
  });
  assert(result.ok);
  const commits = commitsOf(result.responses) as (Commit & { referenced_by?: string[] })[];
  assertEquals(commits.length, 4);
  // The tip is the merge of side: no stats; it carries main and the annotated tag.
  assertEquals(commits[0].short_stats, undefined);
  assertEquals(commits[0].referenced_by, ["refs/tags/h-v2", "refs/heads/main"]);
  assertEquals(commits[1].short_stats, { additions: 1, deletions: 1, changed_files: 1 });
  assertEquals(commits[2].short_stats, undefined, "the merge of topic has no stats either");

  const follow = await h.call(CS, "FindCommits", {
    repository: repo,
    limit: 2,
    offset: 1,
    follow: true,
    paths: [b(LOG.renames[2])],
  });
  assert(follow.ok);
  const all = (await hGit("log", "--format=%H", "--follow", "main", "--", LOG.renames[2]))
    .split("\n");
  assertEquals(commitsOf(follow.responses).map((c) => c.id), all.slice(1, 3));
});

Deno.test("GetCommitSignatures: signed text in 128 KiB messages", async () => {
  const tree = await hGit("rev-parse", "main^{tree}");
  const message = "x".repeat(300 * 1024) + "\n";
  const raw = `tree ${tree}\nauthor A <a@example.com> 1700000000 +0000\n` +
    `committer C <c@example.com> 1700000000 +0000\n` +
    `gpgsig -----BEGIN PGP SIGNATURE-----\n abc\n -----END PGP SIGNATURE-----\n\n${message}`;
  const oid = await runGit(
    ["--git-dir", h.repoPath(repo), "hash-object", "-t", "commit", "-w", "--stdin"],
    undefined,
    raw,
  );
  const result = await h.call(CS, "GetCommitSignatures", { repository: repo, commit_ids: [oid] });
  assert(result.ok);
  assertEquals(result.responses[0].commit_id, oid);
  assertEquals(
    result.responses[0].signature,
    "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----",
  );
  const texts = result.responses.slice(1).map((r) => String(r.signed_text));
  assertEquals(texts.map((t) => t.length).slice(0, 2), [128 * 1024, 128 * 1024]);
  assert(texts.join("").endsWith(`\n\n${message}`));
  assert(!texts.join("").includes("gpgsig"));
});

Deno.test("LastCommitForPath and ListLastCommitsForTree: paths that are not UTF-8", async () => {
  const latin1 = new Uint8Array([...new TextEncoder().encode("caf"), 0xe9, 0x2e, 0x74]);
  const r = await h.createRepo("latin1.git");
  const gitDir = h.repoPath(r);
  const blob = await runGit(
    ["--git-dir", gitDir, "hash-object", "-w", "--stdin"],
    undefined,
    "x\n",
  );
  const mktree = async (entries: Uint8Array) => {
    const child = new Deno.Command("git", {
      args: ["--git-dir", gitDir, "mktree"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(entries);
    await writer.close();
    return new TextDecoder().decode((await child.output()).stdout).trim();
  };
  const line = (
    name: Uint8Array,
  ) => [...new TextEncoder().encode(`100644 blob ${blob}\t`), ...name, 0x0a];
  const plain = new TextEncoder().encode("plain.txt");
  const tree1 = await mktree(new Uint8Array([...line(latin1), ...line(plain)]));
  const first = await runGit(["--git-dir", gitDir, "commit-tree", "-m", "both", tree1]);
  const tree2 = await mktree(new Uint8Array(line(plain)));
  const second = await runGit([
    "--git-dir",
    gitDir,
    "commit-tree",
    "-p",
    first,
    "-m",
    "drop",
    tree2,
  ]);
  await runGit(["--git-dir", gitDir, "update-ref", "refs/heads/main", second]);

  const found = await h.call(CS, "LastCommitForPath", {
    repository: r,
    revision: b("main"),
    path: latin1,
  });
  assert(found.ok, JSON.stringify(found));
  assertEquals((found.responses[0].commit as Commit).id, second, "the commit that deleted it");
  const tree = await h.call(CS, "ListLastCommitsForTree", {
    repository: r,
    revision: "main~1",
    limit: 10,
  });
  assert(tree.ok);
  const entries = tree.responses[0].commits as { path_bytes: unknown; commit: Commit }[];
  assertEquals(entries.map((e) => e.commit.id), [first, first]);
  assertEquals([...(entries[0].path_bytes as Uint8Array)], [...latin1]);
});

Deno.test("ListLastCommitsForTree: trees first, ten entries a message", async () => {
  const result = await h.call(CS, "ListLastCommitsForTree", {
    repository: repo,
    revision: "main",
    path: b("tree/"),
    limit: 25,
    offset: 2,
  });
  assert(result.ok, JSON.stringify(result));
  assertEquals(result.responses.map((r) => (r.commits as unknown[]).length), [10, 10, 5]);
  const first = (result.responses[0].commits as { path_bytes: string }[])[0];
  assertEquals(first.path_bytes, "tree/entry-02.txt");
  const root = await h.call(CS, "ListLastCommitsForTree", {
    repository: repo,
    revision: "main",
    limit: 100,
  });
  assert(root.ok);
  const paths = root.responses.flatMap((r) =>
    (r.commits as { path_bytes: string }[]).map((c) => c.path_bytes)
  );
  assertEquals(paths, ["docs", "src", "topic", "tree"]);
});

Deno.test("ListLastCommitsForTree: the one-walk answers equal git log per entry", async () => {
  // A linear history with names that are pathspec patterns: `a*` also matches `ab`.
  const r = await h.createRepo("globs.git");
  const gitDir = h.repoPath(r);
  const g = (...args: string[]) => runGit(["--git-dir", gitDir, ...args]);
  const work = await Deno.makeTempDir({ prefix: "commit-globs-" });
  try {
    await runGit(["init", "-q", "-b", "main", work]);
    for (const [i, name] of ["a*", "ab", "dir/x", "a*", "ab", "c"].entries()) {
      await Deno.mkdir(join(work, "dir"), { recursive: true });
      await Deno.writeTextFile(join(work, name), `${i}\n`);
      await runGit(["add", "-A"], work);
      await runGit(["commit", "-qm", `change ${name}`], work);
    }
    await g("fetch", "-q", work, "main:refs/heads/main");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  for (const [target, revision] of [[r, "main"], [repo, "side"], [repo, "topic"], [repo, "main"]]) {
    const result = await h.call(CS, "ListLastCommitsForTree", {
      repository: target,
      revision,
      limit: 100,
    });
    assert(result.ok);
    for (const response of result.responses) {
      for (const entry of response.commits as { path_bytes: string; commit: Commit }[]) {
        const expected = await runGit([
          "--git-dir",
          h.repoPath(target as typeof repo),
          "log",
          "--format=%H",
          "--max-count=1",
          revision as string,
          "--",
          entry.path_bytes,
        ]);
        assertEquals(entry.commit.id, expected, `${revision}: ${entry.path_bytes}`);
      }
    }
  }
});

Deno.test("ListLastCommitsForTree: a cancelled call leaves no git running", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("client went away")), 20);
  const result = await h.call(CS, "ListLastCommitsForTree", {
    repository: repo,
    revision: "main",
    path: b("tree/"),
    limit: 40,
  }, { signal: controller.signal });
  assert(!result.ok);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(h.deps.git.liveCount(), h.deps.catfile.stats().idle, "only cached cat-file runs");
});

Deno.test("commit log tests: cleanup", async () => {
  await h.close();
});
