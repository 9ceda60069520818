/**
 * CommitService's RPCs that answer with commits, ours against the
 * reference Gitaly: FindCommit, ListCommits, ListAllCommits,
 * FindAllCommits, FindCommits, CommitsByMessage, ListCommitsByOid,
 * ListCommitsByRefName, GetCommitSignatures, LastCommitForPath and
 * ListLastCommitsForTree, on the rich fixture (signatures, non-UTF-8
 * messages, merges) and the history fixture (deeper history, renames,
 * two authors), with limits, pagination and bad input.
 *
 * @module
 */
import { FIXTURE_EPOCH, LOG, RICH } from "./fixtures.ts";
import { differentialTest, type Harness, type RepoRef } from "./harness.ts";

const CS = "gitaly.CommitService";
const MISSING_REPO = { storage_name: "default", relative_path: "differential/missing.git" };

function rev(h: Harness, repo: RepoRef, revision: string): Promise<string> {
  return h.git("ours", repo, ["rev-parse", revision]);
}

/** A Timestamp `minutes` after the fixtures' first commit. */
function at(minutes: number, nanos = 0) {
  return { seconds: FIXTURE_EPOCH + 60 * minutes, nanos };
}

differentialTest("FindCommit", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const revisions = [
    "main",
    "main~1",
    "main~2",
    "main~3",
    "main~4",
    "main~5",
    "main~6",
    "feature/merged",
    "orphan",
    "v1.0.0",
    "v1.0.0-outer",
    "v2.0.0-signed",
    "blob-tag",
    "tree-tag",
    "main^{tree}",
    RICH.signedBranches.gpg,
    RICH.signedBranches.ssh,
    "refs/heads/feature/ünicode",
    (await rev(h, repository, "main")).slice(0, 8),
    "nope",
    "HEAD",
    "main:README.md",
    "-main",
    "",
    "main with space",
  ];
  for (const revision of revisions) {
    await h.compare(CS, "FindCommit", { repository, revision });
    await h.compare(CS, "FindCommit", { repository, revision, trailers: true });
  }
  await h.compare(CS, "FindCommit", { repository: MISSING_REPO, revision: "main" });
  await h.compare(CS, "FindCommit", { revision: "main" });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(CS, "FindCommit", { repository: empty, revision: "HEAD" });
});

differentialTest("ListCommits: revisions, pseudo revisions and bad input", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases: string[][] = [
    ["main"],
    ["main", "^feature/merged"],
    ["main", "--not", "feature/merged"],
    ["--all"],
    ["--all", "--not", "main"],
    ["main", "--not", "--all"],
    ["--branches"],
    ["--branches=feature/*"],
    ["--tags"],
    ["--glob=refs/heads/signed/*", "^main"],
    ["main", "--not", "^feature/merged"],
    ["main..feature/unmerged"],
    ["feature/unmerged...main"],
    ["main^{tree}"],
    ["v2.0.0-signed"],
    ["nope"],
    ["main", "nope"],
    ["-main"],
    ["--foo"],
    [""],
    ["main:README.md"],
    [],
  ];
  for (const revisions of cases) await h.compare(CS, "ListCommits", { repository, revisions });
  await h.compare(CS, "ListCommits", { repository: MISSING_REPO, revisions: ["main"] });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(CS, "ListCommits", { repository: empty, revisions: ["--all"] });
  await h.compare(CS, "ListCommits", { repository: empty, revisions: ["HEAD"] });
});

differentialTest("ListCommits: options and pagination", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const base = { repository, revisions: ["main"] };
  const variants: Record<string, unknown>[] = [
    { order: 1 },
    { order: 2 },
    { reverse: true },
    { order: 1, reverse: true },
    { max_parents: 1 },
    { max_parents: -1 },
    { disable_walk: true },
    { revisions: ["main", "topic", "side"], disable_walk: true },
    { first_parent: true },
    { first_parent: true, reverse: true },
    { after: at(100) },
    { before: at(20) },
    { after: at(30, 500), before: at(40) },
    { author: "Bob" },
    { author: "bob", ignore_case: true },
    { author: "^Ada" },
    { commit_message_patterns: ["fix"] },
    { commit_message_patterns: ["FIX", "feature"], ignore_case: true },
    { commit_message_patterns: ["fix"], author: "Bob" },
    { pagination_params: { limit: 5 } },
    { pagination_params: { limit: 0 } },
    { pagination_params: { limit: -1 } },
    { pagination_params: { limit: 1 }, reverse: true },
  ];
  for (const variant of variants) await h.compare(CS, "ListCommits", { ...base, ...variant });
  // Paging through with tokens, as GitLab does.
  let token = "";
  for (let page = 0; page < 4; page++) {
    const request = { ...base, pagination_params: { limit: 40, page_token: token } };
    const { ours } = await h.compare(CS, "ListCommits", request);
    const commits = (ours as { ok: true; responses: { commits: { id: string }[] } }).responses
      .commits;
    if (commits.length === 0) break;
    token = commits[commits.length - 1].id;
  }
  await h.compare(CS, "ListCommits", { ...base, pagination_params: { page_token: "nope" } });
});

differentialTest("ListCommits: rich messages and signatures", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  await h.compare(CS, "ListCommits", { repository, revisions: ["--all"], order: 1 });
  await h.compare(CS, "ListCommits", {
    repository,
    revisions: ["--all"],
    commit_message_patterns: ["caf"],
  });
  for (const variant of [{ first_parent: true }, { max_parents: 1 }, { disable_walk: true }]) {
    await h.compare(CS, "ListCommits", { repository, revisions: ["main"], ...variant });
  }
});

differentialTest("ListAllCommits", async (h) => {
  for (const fixture of ["rich", "log", "empty"] as const) {
    const repository = await h.repo(fixture, { shared: true });
    await h.compare(CS, "ListAllCommits", { repository });
    await h.compare(CS, "ListAllCommits", { repository, pagination_params: { limit: 3 } });
  }
  const repository = await h.repo("log", { shared: true });
  const { ours } = await h.compare(CS, "ListAllCommits", {
    repository,
    pagination_params: { limit: 10 },
  });
  const commits = (ours as { ok: true; responses: { commits: { id: string }[] } }).responses
    .commits;
  await h.compare(CS, "ListAllCommits", {
    repository,
    pagination_params: { limit: 10, page_token: commits[9].id },
  });
  await h.compare(CS, "ListAllCommits", {
    repository,
    pagination_params: { page_token: "nope" },
  });
  await h.compare(CS, "ListAllCommits", { repository: MISSING_REPO });
});

differentialTest("FindAllCommits", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const variants: Record<string, unknown>[] = [
    {},
    { revision: "main" },
    { revision: "topic" },
    { revision: "main", max_count: 7 },
    { revision: "main", max_count: 7, skip: 100 },
    { revision: "main", skip: 1000 },
    { max_count: 0 },
    { max_count: -3, skip: -1 },
    { order: 1 },
    { order: 2, max_count: 30 },
    { revision: "nope" },
    { revision: "-main" },
    { revision: "main:src" },
  ];
  for (const variant of variants) {
    await h.compare(CS, "FindAllCommits", { repository, ...variant });
  }
  const rich = await h.repo("rich", { shared: true });
  await h.compare(CS, "FindAllCommits", { repository: rich });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(CS, "FindAllCommits", { repository: empty });
  await h.compare(CS, "FindAllCommits", { repository: MISSING_REPO });
});

differentialTest("FindCommits: history", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const [old, middle, latest] = LOG.renames;
  const variants: Record<string, unknown>[] = [
    { limit: 10 },
    { revision: "main", limit: 1000 },
    { limit: 0 },
    { limit: -1 },
    { limit: 10, offset: 5 },
    { limit: 10, offset: -5 },
    { limit: 10, offset: 10000 },
    { limit: 10, paths: ["src/file-3.txt"] },
    { limit: 10, paths: ["src/file-3.txt", "src/file-4.txt"] },
    { limit: 10, paths: ["src"] },
    { limit: 10, paths: [latest] },
    { limit: 10, paths: [latest], follow: true },
    { limit: 2, paths: [latest], follow: true, offset: 2 },
    { limit: 10, paths: [latest], follow: true, offset: 100 },
    { limit: 10, paths: [middle], follow: true },
    { limit: 10, paths: [old] },
    { limit: 10, paths: ["src/*.txt"] },
    { limit: 10, paths: ["src/*.txt"], global_options: { literal_pathspecs: true } },
    { limit: 10, follow: true },
    { limit: 20, skip_merges: true },
    { limit: 20, first_parent: true },
    { limit: 20, first_parent: true, paths: ["src/file-1.txt"] },
    { limit: 20, paths: ["src/file-1.txt"] },
    { limit: 20, disable_walk: true },
    { limit: 20, author: "Bob" },
    { limit: 20, author: "nobody" },
    { limit: 20, after: at(100), before: at(130) },
    { limit: 20, before: at(5, 999) },
    { limit: 20, all: true },
    { limit: 20, all: true, revision: "topic" },
    { limit: 20, order: 1 },
    { limit: 20, revision: "side", order: 1 },
    { limit: 5, trailers: true },
    { limit: 30, include_shortstat: true },
    { limit: 30, include_shortstat: true, trailers: true, offset: 3 },
    { limit: 5, include_shortstat: true, paths: [latest], follow: true, offset: 1 },
    { limit: 30, include_referenced_by: ["refs/heads/"] },
    { limit: 30, include_referenced_by: ["refs/tags/", "refs/heads/topic"] },
    { limit: 30, include_referenced_by: ["HEAD"] },
    { limit: 5, include_referenced_by: ["refs/"], trailers: true, include_shortstat: true },
    { limit: 10, revision: "nope" },
    { limit: 10, revision: "-main" },
    { limit: 10, revision: "main..topic" },
    { limit: 10, paths: [""] },
    { limit: 10, paths: ["nope/nothing"] },
    { limit: 10, paths: ["../outside"] },
  ];
  for (const variant of variants) await h.compare(CS, "FindCommits", { repository, ...variant });
  await h.compare(CS, "FindCommits", { repository: MISSING_REPO, limit: 1 });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(CS, "FindCommits", { repository: empty, limit: 10 });
  await h.compare(CS, "FindCommits", { repository: empty, limit: 10, all: true });
});

differentialTest("FindCommits: rich (trailers, stats, non-UTF-8, signatures)", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  await h.compare(CS, "FindCommits", {
    repository,
    limit: 100,
    all: true,
    trailers: true,
    include_shortstat: true,
    include_referenced_by: ["refs/"],
  });
  await h.compare(CS, "FindCommits", {
    repository,
    revision: RICH.signedBranches.ssh,
    limit: 3,
    include_shortstat: true,
  });
  await h.compare(CS, "FindCommits", {
    repository,
    limit: 10,
    paths: [RICH.latin1FileName],
  });
});

differentialTest("CommitsByMessage", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const variants: Record<string, unknown>[] = [
    { query: "fix" },
    { query: "FIX" },
    { query: "fix", limit: 3 },
    { query: "fix", limit: 3, offset: 2 },
    { query: "fix", limit: -1, offset: -2 },
    { query: "fix", revision: "side" },
    { query: "fix", path: "src/file-0.txt" },
    { query: "fix [0-9]+0:" },
    { query: "topic", revision: "topic" },
    { query: "nothing matches this" },
    { query: "" },
    { query: "fix", revision: "nope" },
    { query: "fix", revision: "-main" },
    { query: "fix", path: "src/*", global_options: { literal_pathspecs: true } },
  ];
  for (const variant of variants) {
    await h.compare(CS, "CommitsByMessage", { repository, ...variant });
  }
  const rich = await h.repo("rich", { shared: true });
  await h.compare(CS, "CommitsByMessage", { repository: rich, query: "caf" });
  await h.compare(CS, "CommitsByMessage", { repository: MISSING_REPO, query: "x" });
});

differentialTest("ListCommitsByOid and ListCommitsByRefName", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const main = await rev(h, repository, "main");
  const tree = await rev(h, repository, "main^{tree}");
  const gpg = await rev(h, repository, RICH.signedBranches.gpg);
  const oids = [main, main.slice(0, 10), gpg, tree, "0".repeat(40), "nope", "", "v1.0.0"];
  await h.compare(CS, "ListCommitsByOid", { repository, oid: oids });
  await h.compare(CS, "ListCommitsByOid", { repository, oid: [] });
  await h.compare(CS, "ListCommitsByOid", { repository: MISSING_REPO, oid: [main] });
  const refNames = [
    "refs/heads/main",
    "main",
    "refs/tags/v1.0.0",
    "v1.0.0-outer",
    "refs/tags/blob-tag",
    "refs/heads/feature/ünicode",
    "refs/heads/nope",
    "",
    "HEAD",
  ];
  await h.compare(CS, "ListCommitsByRefName", { repository, ref_names: refNames });
  await h.compare(CS, "ListCommitsByRefName", { repository, ref_names: [] });
  await h.compare(CS, "ListCommitsByRefName", { repository: MISSING_REPO, ref_names: ["main"] });
  // Enough commits to span messages.
  const history = await h.repo("log", { shared: true });
  const all = (await h.git("ours", history, ["rev-list", "--all"])).split("\n");
  await h.compare(CS, "ListCommitsByOid", { repository: history, oid: all }, { join: "none" });
});

differentialTest("GetCommitSignatures", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const gpg = await rev(h, repository, RICH.signedBranches.gpg);
  const ssh = await rev(h, repository, RICH.signedBranches.ssh);
  const main = await rev(h, repository, "main");
  const tagged = await rev(h, repository, "v2.0.0-signed");
  const cases: string[][] = [
    [gpg],
    [ssh],
    [gpg, main, ssh, "1".repeat(40), tagged],
    [main],
    [],
    [gpg.slice(0, 10)],
    ["z".repeat(40)],
    [gpg.toUpperCase()],
  ];
  for (const commit_ids of cases) {
    await h.compare(CS, "GetCommitSignatures", { repository, commit_ids }, { join: "none" });
  }
  await h.compare(CS, "GetCommitSignatures", { repository: MISSING_REPO, commit_ids: [gpg] });
  // Headers of every kind (not verifiable; told apart by their first line).
  const history = await h.repo("log", { shared: true });
  const branches = Object.keys(LOG.fakeSignatures);
  const ids = await Promise.all(branches.map((branch) => rev(h, history, branch)));
  await h.compare(CS, "GetCommitSignatures", { repository: history, commit_ids: ids }, {
    join: "none",
  });
  for (const revision of branches) {
    await h.compare(CS, "FindCommit", { repository: history, revision });
  }
  await h.compare(CS, "ListCommitsByOid", { repository: history, oid: ids });
});

differentialTest("Commits batched into messages by size (14 KiB messages)", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const none = { join: "none" } as const;
  await h.compare(CS, "ListCommits", { repository, revisions: ["big-messages"] }, none);
  await h.compare(CS, "FindCommits", { repository, revision: "big-messages", limit: 500 }, none);
  await h.compare(CS, "FindAllCommits", { repository, revision: "big-messages" }, none);
  await h.compare(
    CS,
    "CommitsByMessage",
    { repository, revision: "big-messages", query: "Big" },
    none,
  );
  await h.compare(CS, "ListAllCommits", { repository }, none);
  const oids = (await h.git("ours", repository, ["rev-list", "big-messages"])).split("\n");
  await h.compare(CS, "ListCommitsByOid", { repository, oid: oids }, none);
  const refs = (await h.git("ours", repository, ["for-each-ref", "--format=%(refname)"]))
    .split("\n");
  await h.compare(CS, "ListCommitsByRefName", { repository, ref_names: refs }, none);
});

differentialTest("LastCommitForPath", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const [old, , latest] = LOG.renames;
  const cases: Record<string, unknown>[] = [
    { revision: "main", path: "src/file-3.txt" },
    { revision: "main", path: "src/file-1.txt" },
    { revision: "main", path: "src" },
    { revision: "main", path: "src/" },
    { revision: "main", path: "" },
    { revision: "main", path: "/" },
    { revision: "main", path: latest },
    { revision: "main", path: old },
    { revision: "main~30", path: "tree" },
    { revision: "side", path: "src/file-1.txt" },
    { revision: "main", path: "nope" },
    { revision: "main", path: "src/*.txt" },
    { revision: "main", path: "src/*.txt", literal_pathspec: true },
    { revision: "main", path: "src/*.txt", global_options: { literal_pathspecs: true } },
    { revision: "nope", path: "src" },
    { revision: "", path: "src" },
    { revision: "-main", path: "src" },
    { revision: "main", path: "../outside" },
    { revision: "main", path: "src/../src/file-1.txt" },
  ];
  for (const request of cases) {
    await h.compare(CS, "LastCommitForPath", { repository, ...request });
  }
  const rich = await h.repo("rich", { shared: true });
  await h.compare(CS, "LastCommitForPath", {
    repository: rich,
    revision: "main",
    path: RICH.latin1FileName,
  });
  await h.compare(CS, "LastCommitForPath", { repository: MISSING_REPO, revision: "main" });
});

differentialTest("ListLastCommitsForTree", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const cases: Record<string, unknown>[] = [
    { revision: "main", limit: 100 },
    { revision: "main", path: "tree/", limit: 100 },
    { revision: "main", path: "tree/", limit: 15, offset: 10 },
    { revision: "main", path: "tree/", limit: 5, offset: 39 },
    { revision: "main", path: "tree/", limit: 5, offset: 40 },
    { revision: "main", path: "tree", limit: 5 },
    { revision: "main", path: "/", limit: 5 },
    { revision: "main", path: "src/", limit: 0 },
    { revision: "main~30", path: "src/", limit: 100 },
    // Linear history below the tip (resolved in one walk), whole or in part.
    { revision: "side", limit: 100 },
    { revision: "side", path: "src/", limit: 100 },
    { revision: "side", path: "docs/", limit: 100, global_options: { literal_pathspecs: true } },
    { revision: "topic", path: "tree/", limit: 50, offset: 5 },
    { revision: "topic", path: "src", limit: 5 },
    { revision: "h-v1", limit: 100 },
    { revision: "main", path: "nope/", limit: 10 },
    { revision: "main", path: "src/*", limit: 10, global_options: { literal_pathspecs: true } },
    { revision: "main", limit: -1 },
    { revision: "main", limit: 1, offset: -1 },
    { revision: "nope", limit: 10 },
    { revision: "", limit: 10 },
    { revision: "-main", limit: 10 },
    { revision: "main", path: "../", limit: 10 },
  ];
  for (const request of cases) {
    await h.compare(CS, "ListLastCommitsForTree", { repository, ...request }, { join: "none" });
  }
  const rich = await h.repo("rich", { shared: true });
  await h.compare(CS, "ListLastCommitsForTree", { repository: rich, revision: "main", limit: 50 });
  await h.compare(CS, "ListLastCommitsForTree", {
    repository: rich,
    revision: "main",
    path: "files/",
    limit: 50,
  });
  await h.compare(CS, "ListLastCommitsForTree", {
    repository: MISSING_REPO,
    revision: "main",
    limit: 1,
  });
});

differentialTest("Paths with NUL: InvalidArgument from us (Gitaly: Internal)", async (h) => {
  const repository = await h.repo("log", { shared: true });
  const nul = "a\0b";
  const requests = [
    ["LastCommitForPath", { repository, revision: "main", path: nul }],
    ["FindCommits", { repository, limit: 3, paths: [nul] }],
    ["CommitsByMessage", { repository, query: "fix", path: nul }],
    ["ListLastCommitsForTree", { repository, revision: "main", path: nul, limit: 3 }],
  ] as const;
  for (const [method, request] of requests) {
    const { ours, reference } = await h.call(CS, method, request as never);
    if (ours.ok || reference.ok) throw new Error(`${method}: expected errors`);
    if (ours.codeName !== "InvalidArgument" || reference.codeName !== "Internal") {
      throw new Error(`${method}: ${ours.codeName} ${ours.message} / ${reference.codeName}`);
    }
  }
});
