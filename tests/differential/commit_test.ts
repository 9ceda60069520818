/**
 * CommitService, ours against the reference Gitaly: the RPCs we answer so
 * far, on fixtures and on bad input.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { type CallResult, differentialTest, type RepoRef, SIDES } from "./harness.ts";
import { FIXTURE_EPOCH, HISTORY, RICH } from "./fixtures.ts";
import { GetTreeEntriesRequest_SortBy } from "../../src/proto/types.ts";

const CS = "gitaly.CommitService";

function codeOf(result: CallResult): string {
  return result.ok ? "OK" : result.codeName;
}

/** Runs `fn` for each request; a failure names the request. */
async function each<T>(requests: T[], fn: (request: T) => Promise<unknown>): Promise<void> {
  for (const request of requests) {
    try {
      await fn(request);
    } catch (error) {
      const shown = JSON.stringify(request, (_, v) => v instanceof Uint8Array ? [...v] : v);
      throw new Error(`request ${shown}: ${(error as Error).message}`);
    }
  }
}

/** A blob streamed in chunks: the first message's fields and the data joined. */
function joinBlob(responses: Record<string, unknown>[]): unknown {
  const data = responses.flatMap((r) => [...((r.data as Uint8Array | undefined) ?? [])]);
  return { ...responses[0], data: data.length, sha: simpleHash(data) };
}

function simpleHash(bytes: number[]): number {
  let hash = 0;
  for (const byte of bytes) hash = (hash * 31 + byte) >>> 0;
  return hash;
}

const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };

/** Revisions both good and bad, for the RPCs that take one. */
const BAD_REVISIONS = ["", "-x", "a b", "main:README.md", "nope", "a\\b", "main\0x"];

differentialTest("CommitIsAncestor", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases: [string, string][] = [
    ["main~1", "main"],
    ["main", "main~1"],
    ["feature/merged", "main"],
    ["feature/unmerged", "main"],
    ["orphan", "main"],
    ["nope", "main"],
    ["main", "nope"],
    ["", "main"],
    ["main", ""],
    ["v1.0.0", "main"],
  ];
  for (const [ancestor_id, child_id] of cases) {
    await h.compare(CS, "CommitIsAncestor", { repository, ancestor_id, child_id });
  }
  // Gitaly says Internal for a revision that looks like an option; we say InvalidArgument.
  const dash = await h.call(CS, "CommitIsAncestor", {
    repository,
    ancestor_id: "-x",
    child_id: "main",
  });
  assertEquals([codeOf(dash.ours), codeOf(dash.reference)], ["InvalidArgument", "Internal"]);
  await h.compare(CS, "CommitIsAncestor", { repository: missing, ancestor_id: "a", child_id: "b" });
});

differentialTest("TreeEntry", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const paths = [
    "README.md",
    "bin",
    "bin/",
    "bin/run.sh",
    "link-to-readme",
    "large.bin",
    RICH.submodulePath,
    RICH.latin1FileName,
    "nope",
    "bin/nope",
    "./README.md",
    "bin//run.sh",
    "bin/../README.md",
    "../README.md",
    "/README.md",
    ".",
    "/",
    "README.md/x",
  ];
  await each(
    paths,
    (path) =>
      h.compare(CS, "TreeEntry", { repository, revision: "main", path }, { join: joinBlob }),
  );
  for (const [limit, max_size] of [[10, 0], [0, 10], [0, 100000], [-1, 0], [0, -1], [1, 1]]) {
    await h.compare(CS, "TreeEntry", {
      repository,
      revision: "main",
      path: "README.md",
      limit,
      max_size,
    });
  }
  await h.compare(CS, "TreeEntry", {
    repository,
    revision: "main",
    path: "large.bin",
    limit: 300000,
  }, { join: joinBlob });
  for (const revision of BAD_REVISIONS) {
    await h.compare(CS, "TreeEntry", { repository, revision, path: "README.md" });
  }
  await h.compare(CS, "TreeEntry", { repository, revision: "main", path: "" });
  await h.compare(CS, "TreeEntry", { repository: missing, revision: "main", path: "README.md" });
});

differentialTest("CountCommits", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const requests = [
    { revision: "main" },
    { revision: "main", first_parent: true },
    { all: true },
    { revision: "main", max_count: 2 },
    { revision: "main", max_count: -1 },
    { revision: "main", path: "README.md" },
    { revision: "main", path: "bin/*" },
    { revision: "main", path: "bin/*", global_options: { literal_pathspecs: true } },
    { revision: "main", after: { seconds: 1_700_000_000 + 60 * 4 } },
    { revision: "main", before: { seconds: 1_700_000_000 + 60 * 4 } },
    { revision: "feature/merged..main" },
    { revision: "nope" },
    { revision: "" },
    { revision: "-x" },
    { revision: "main", path: "nope" },
  ];
  await each(requests, (request) => h.compare(CS, "CountCommits", { repository, ...request }));
  await h.compare(CS, "CountCommits", { repository: missing, revision: "main" });
});

differentialTest("CountDivergingCommits", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const requests = [
    { from: "main", to: "feature/unmerged" },
    { from: "feature/unmerged", to: "main" },
    { from: "main", to: "orphan" },
    { from: "main", to: "feature/unmerged", max_count: 2 },
    { from: "main", to: "main" },
    { from: "main", to: "nope" },
    { from: "", to: "main" },
    { from: "main" },
  ];
  await each(
    requests,
    (request) => h.compare(CS, "CountDivergingCommits", { repository, ...request }),
  );
  await h.compare(CS, "CountDivergingCommits", { repository: missing, from: "a", to: "b" });
});

differentialTest("GetTreeEntries", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const requests = [
    { revision: "main", path: "." },
    { revision: "main", path: "bin" },
    { revision: "main", path: "bin/" },
    { revision: "main", path: "vendor" },
    { revision: "main", path: ".", recursive: true },
    { revision: "main", path: "lfs", recursive: true },
    { revision: "main", path: "vendor/lib", recursive: true },
    { revision: "main", path: "README.md", recursive: true },
    { revision: "main", path: "README.md" },
    { revision: "main", path: ".", sort: GetTreeEntriesRequest_SortBy.TREES_FIRST },
    { revision: "main", path: ".", skip_flat_paths: true },
    { revision: "main", path: ".", pagination_params: { limit: 3 } },
    { revision: "main", path: ".", pagination_params: { limit: 0 } },
    { revision: "main", path: ".", pagination_params: { limit: -1 } },
    { revision: "main", path: ".", pagination_params: { limit: 2, page_token: "bin" } },
    { revision: "main", path: ".", pagination_params: { limit: 2, page_token: "nope" } },
    { revision: "main", path: "nope" },
    { revision: "main", path: "nope", recursive: true },
    { revision: "nope", path: "." },
    { revision: "nope", path: ".", recursive: true },
    { revision: "main", path: "" },
    { revision: "-x", path: "." },
    { revision: "main", path: "../x" },
  ];
  await each(
    requests,
    (request) => h.compare(CS, "GetTreeEntries", { repository, ...request }, { join: "none" }),
  );
  // a page token from a previous page
  const first = await h.callSide("reference", CS, "GetTreeEntries", {
    repository,
    revision: "main",
    path: ".",
    pagination_params: { limit: 2 },
  });
  if (first.ok) {
    const cursor = (first.responses[0] as { pagination_cursor?: { next_cursor?: string } })
      .pagination_cursor?.next_cursor ?? "";
    await h.compare(CS, "GetTreeEntries", {
      repository,
      revision: "main",
      path: ".",
      pagination_params: { limit: 2, page_token: cursor },
    }, { join: "none" });
  }
  await h.compare(CS, "GetTreeEntries", { repository: missing, revision: "main", path: "." });
});

differentialTest("ListFiles", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  for (const revision of ["main", "", "feature/unmerged", "nope", "v1.0.0", "-x", "blob-tag"]) {
    await h.compare(CS, "ListFiles", { repository, revision }, { join: "paths" });
  }
  const empty = await h.repo("empty", { shared: true });
  await h.compare(CS, "ListFiles", { repository: empty, revision: "" }, { join: "none" });
  await h.compare(CS, "ListFiles", { repository: missing, revision: "main" });
});

differentialTest("CommitStats", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  for (
    const revision of ["main", "main~1", "main~2", "main~4", "v1.0.0", "orphan", "nope", "", "-x"]
  ) {
    await h.compare(CS, "CommitStats", { repository, revision });
  }
  const initial = await h.git("reference", repository, ["rev-list", "--max-parents=0", "main"]);
  await h.compare(CS, "CommitStats", { repository, revision: initial });
  await h.compare(CS, "CommitStats", { repository: missing, revision: "main" });
});

differentialTest("RawBlame", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const requests = [
    { revision: "main", path: "README.md" },
    { revision: "main", path: "README.md", range: "1,2" },
    { revision: "main", path: "README.md", range: "2,100" },
    { revision: "main", path: "README.md", range: "100,200" },
    { revision: "main", path: "README.md", range: "1-2" },
    { revision: "main", path: "README.md", range: "0,1" },
    { revision: "main", path: "nope" },
    { revision: "main", path: "" },
    { revision: "main", path: "../etc/passwd" },
    { revision: "main", path: "/etc/passwd" },
    { revision: "nope", path: "README.md" },
    { revision: "-x", path: "README.md" },
    { revision: "main", path: "bin" },
  ];
  await each(requests, (request) => h.compare(CS, "RawBlame", { repository, ...request }));
  await h.compare(CS, "RawBlame", { repository: missing, revision: "main", path: "README.md" });
});

differentialTest("CheckObjectsExist", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const main = await h.git("reference", repository, ["rev-parse", "main"]);
  await h.compare(CS, "CheckObjectsExist", [
    { repository, revisions: ["main", "nope", main, "main:README.md", "v1.0.0"] },
    { revisions: ["HEAD", "0000000000000000000000000000000000000000"] },
  ], { join: "revisions" });
  await h.compare(CS, "CheckObjectsExist", [{ repository, revisions: [] }], { join: "revisions" });
  await h.compare(CS, "CheckObjectsExist", [
    { repository, revisions: ["main"] },
    { revisions: ["-x"] },
  ], { join: "revisions" });
  await h.compare(CS, "CheckObjectsExist", [{ repository: missing, revisions: ["main"] }]);
});

differentialTest("FilterShasWithSignatures", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const rev = (r: string) => h.git("reference", repository, ["rev-parse", r]);
  const gpg = await rev(RICH.signedBranches.gpg);
  const ssh = await rev(RICH.signedBranches.ssh);
  const main = await rev("main");
  const tag = await rev("v2.0.0-signed");
  await h.compare(CS, "FilterShasWithSignatures", [
    { repository, shas: [gpg, main, ssh, "nope", tag] },
    { shas: [main] },
    { shas: [ssh, gpg] },
  ], { join: "none" });
  await h.compare(CS, "FilterShasWithSignatures", [{ repository: missing, shas: [gpg] }]);
});

differentialTest("GetCommitMessages", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const rev = (r: string) => h.git("reference", repository, ["rev-parse", r]);
  const ids = [await rev("main"), await rev("main~1"), await rev("main~3")];
  await h.compare(CS, "GetCommitMessages", { repository, commit_ids: ids }, { join: "none" });
  await h.compare(CS, "GetCommitMessages", { repository, commit_ids: ["main"] }, {
    join: "none",
  });
  await h.compare(CS, "GetCommitMessages", { repository, commit_ids: [ids[0], "nope"] }, {
    join: "none",
  });
  await h.compare(CS, "GetCommitMessages", { repository, commit_ids: [] }, { join: "none" });
  await h.compare(CS, "GetCommitMessages", { repository: missing, commit_ids: ids });
});

differentialTest("CommitLanguages", async (h) => {
  const history = await h.repo("history", { shared: true });
  const rich = await h.repo("rich", { shared: true });
  const sort = { normalize: sortLanguages };
  for (const revision of ["main", "languages", "", "main~100"]) {
    await h.compare(CS, "CommitLanguages", { repository: history, revision }, sort);
  }
  for (const revision of ["main", "v1.0.0", "nope", "-x"]) {
    await h.compare(CS, "CommitLanguages", { repository: rich, revision }, sort);
  }
  await h.compare(CS, "CommitLanguages", { repository: missing, revision: "main" });
  // A name that is a branch and a tag: Gitaly takes the branch.
  const ambiguous = await h.repo("history");
  for (const side of SIDES) {
    await h.git(side, ambiguous, ["tag", "topic", "languages"]);
  }
  for (const revision of ["topic", "tags/topic", "heads/topic"]) {
    await h.compare(CS, "CommitLanguages", { repository: ambiguous, revision }, sort);
  }
});

/** Languages of equal share in a stable order (Gitaly leaves it to map order). */
function sortLanguages(value: unknown): unknown {
  const v = value as { languages?: { name: string; share: number }[] };
  v.languages?.sort((a, b) => b.share - a.share || (a.name < b.name ? -1 : 1));
  return v;
}

differentialTest("history: counts, trees, blame", async (h) => {
  const repository = await h.repo("history", { shared: true });
  const counts = [
    { revision: "main" },
    { revision: "main", first_parent: true },
    { revision: "main", path: "counter.txt" },
    { revision: "main", path: HISTORY.renamedFile },
    { revision: "topic..main" },
    { revision: "main", max_count: 0 },
    { revision: "main", after: { seconds: FIXTURE_EPOCH + 60 * 100 } },
  ];
  await each(counts, (request) => h.compare(CS, "CountCommits", { repository, ...request }));
  await h.compare(CS, "CountDivergingCommits", { repository, from: "main", to: "topic" });
  await h.compare(CS, "CountDivergingCommits", { repository, from: "main~150", to: "topic" });
  await h.compare(CS, "CommitIsAncestor", { repository, ancestor_id: "topic", child_id: "main" });
  const trees = [
    { revision: "main", path: "." },
    { revision: "main", path: ".", recursive: true },
    { revision: "main", path: HISTORY.latin1Dir },
    { revision: "main", path: "vendor/sub" },
  ];
  await each(
    trees,
    (request) => h.compare(CS, "GetTreeEntries", { repository, ...request }, { join: "entries" }),
  );
  await h.compare(CS, "ListFiles", { repository, revision: "main" }, { join: "paths" });
  await h.compare(CS, "TreeEntry", { repository, revision: "main", path: "vendor/sub" });
  await h.compare(CS, "TreeEntry", {
    repository,
    revision: "main",
    path: new Uint8Array([...HISTORY.latin1Dir, ...new TextEncoder().encode("/menu.txt")]),
  });
  for (const revision of ["main", "main~10", "main~190"]) {
    await h.compare(CS, "CommitStats", { repository, revision });
  }
  const blames = [
    { revision: "main", path: HISTORY.bigFile },
    { revision: "main", path: HISTORY.bigFile, range: "9990,10000" },
    { revision: "main", path: HISTORY.bigFile, range: "9990,10001" },
    { revision: "main", path: HISTORY.bigFile, range: "10001,10002" },
    { revision: "main", path: "counter.txt" },
    { revision: "main", path: HISTORY.renamedFile },
    { revision: "main", path: "bin/data.bin" },
    { revision: "main", path: "vendor/sub" },
  ];
  await each(blames, (request) => h.compare(CS, "RawBlame", { repository, ...request }));
});

differentialTest("FindCommit", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const revisions = [
    "main",
    "main~1",
    "main~2",
    "main~3",
    "v1.0.0",
    "v2.0.0",
    RICH.signedBranches.gpg,
    RICH.signedBranches.ssh,
    "orphan",
    "feature/ünicode",
    "nope",
    ...BAD_REVISIONS,
  ];
  await each(revisions, (revision) => h.compare(CS, "FindCommit", { repository: rich, revision }));
  await each(
    ["main", "main~1", "main~4"],
    (revision) => h.compare(CS, "FindCommit", { repository: rich, revision, trailers: true }),
  );
  await h.compare(CS, "FindCommit", { repository: missing, revision: "main" });
});

differentialTest("LastCommitForPath", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const history = await h.repo("history", { shared: true });
  const requests = [
    { repository: rich, revision: "main", path: "README.md" },
    { repository: rich, revision: "main", path: "" },
    { repository: rich, revision: "main", path: "/" },
    { repository: rich, revision: "main", path: "bin" },
    { repository: rich, revision: "main", path: "bin/*" },
    { repository: rich, revision: "main", path: "bin/*", literal_pathspec: true },
    {
      repository: rich,
      revision: "main",
      path: "bin/*",
      global_options: { literal_pathspecs: true },
    },
    { repository: rich, revision: "main", path: RICH.latin1FileName },
    { repository: rich, revision: "main", path: "nope" },
    { repository: rich, revision: "nope", path: "README.md" },
    { repository: rich, revision: "", path: "README.md" },
    { repository: rich, revision: "-x", path: "README.md" },
    { repository: history, revision: "main", path: HISTORY.renamedFile },
    { repository: history, revision: "main", path: "counter.txt" },
    { repository: history, revision: "main~50", path: HISTORY.bigFile },
  ];
  await each(requests, (request) => h.compare(CS, "LastCommitForPath", request));
  await h.compare(CS, "LastCommitForPath", { repository: missing, revision: "main", path: "a" });
});

differentialTest("ListLastCommitsForTree", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const history = await h.repo("history", { shared: true });
  const requests = [
    { repository: rich, revision: "main", path: "", limit: 100 },
    { repository: rich, revision: "main", path: "/", limit: 3 },
    { repository: rich, revision: "main", path: "bin/", limit: 100 },
    { repository: rich, revision: "main", path: "bin", limit: 100 },
    { repository: rich, revision: "main", path: "", limit: 5, offset: 3 },
    { repository: rich, revision: "main", path: "", limit: 5, offset: 300 },
    { repository: rich, revision: "main", path: "", limit: 0 },
    { repository: rich, revision: "main", path: "", limit: -1 },
    { repository: rich, revision: "main", path: "", limit: 1, offset: -1 },
    { repository: rich, revision: "main", path: "nope/", limit: 10 },
    { repository: rich, revision: "nope", path: "", limit: 10 },
    { repository: rich, revision: "", path: "", limit: 10 },
    { repository: rich, revision: "-x", path: "", limit: 10 },
    { repository: history, revision: "main", path: "", limit: 100 },
    { repository: history, revision: "main", path: "web/", limit: 100 },
    {
      repository: history,
      revision: "main",
      path: new Uint8Array([...HISTORY.latin1Dir, 0x2f]),
      limit: 100,
    },
    { repository: history, revision: "main", path: HISTORY.latin1Dir, limit: 100 },
    {
      repository: history,
      revision: "main",
      path: new Uint8Array([...HISTORY.latin1Dir, ...new TextEncoder().encode("/nope/")]),
      limit: 100,
    },
  ];
  await each(
    requests,
    (request) => h.compare(CS, "ListLastCommitsForTree", request, { join: "none" }),
  );
});

differentialTest("ListCommitsByOid and ListCommitsByRefName", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const rev = (r: string) => h.git("reference", rich, ["rev-parse", r]);
  const main = await rev("main");
  const oids = [main, await rev("main~1"), "nope", main.slice(0, 10), "", await rev("v1.0.0")];
  await h.compare(CS, "ListCommitsByOid", { repository: rich, oid: oids }, { join: "commits" });
  await h.compare(CS, "ListCommitsByOid", { repository: rich, oid: [] }, { join: "none" });
  await h.compare(CS, "ListCommitsByOid", { repository: missing, oid: [main] });
  const refs = [
    "refs/heads/main",
    "main",
    "refs/tags/v1.0.0",
    "refs/heads/nope",
    "",
    "refs/tags/blob-tag",
  ];
  await h.compare(CS, "ListCommitsByRefName", { repository: rich, ref_names: refs }, {
    join: "commit_refs",
  });
  await h.compare(CS, "ListCommitsByRefName", { repository: missing, ref_names: ["main"] });
});

differentialTest("bad input where Gitaly says Internal: precise codes", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const codes = async (method: string, request: unknown) => {
    // deno-lint-ignore no-explicit-any
    const r = await h.call(CS, method as any, request as any);
    return [codeOf(r.ours), codeOf(r.reference)];
  };
  const expect = ["InvalidArgument", "Internal"];
  assertEquals(await codes("CheckObjectsExist", []), expect);
  assertEquals(await codes("FilterShasWithSignatures", []), expect);
  const nul = "README.md\0x";
  assertEquals(await codes("RawBlame", { repository, revision: "main", path: nul }), expect);
  assertEquals(
    await codes("LastCommitForPath", { repository, revision: "main", path: nul }),
    expect,
  );
  assertEquals(await codes("GetTreeEntries", { repository, revision: "main", path: nul }), expect);
  await h.compare(CS, "CountDivergingCommits", { repository, from: "-x", to: "main" }, {
    message: "ignore",
  });
});

differentialTest("history: more tree, stats and file cases", async (h) => {
  const repository = await h.repo("history", { shared: true });
  const merges = (await h.git("reference", repository, ["rev-list", "--merges", "main"])).split(
    "\n",
  );
  const trees = [
    { revision: "main", path: ".", recursive: true, pagination_params: { limit: 7 } },
    {
      revision: "main",
      path: ".",
      recursive: true,
      sort: GetTreeEntriesRequest_SortBy.TREES_FIRST,
    },
    { revision: "main", path: "web/", recursive: true },
    { revision: "main", path: "src", sort: GetTreeEntriesRequest_SortBy.TREES_FIRST },
    { revision: merges[0], path: "topic" },
    { revision: "main~199", path: "." },
  ];
  await each(
    trees,
    (request) => h.compare(CS, "GetTreeEntries", { repository, ...request }, { join: "none" }),
  );
  await each(merges, (revision) => h.compare(CS, "CommitStats", { repository, revision }));
  const renames = (await h.git("reference", repository, [
    "log",
    "--format=%H",
    "--diff-filter=R",
    "-M",
    "main",
  ])).split("\n").filter((r) => r !== "");
  await each(renames, (revision) => h.compare(CS, "CommitStats", { repository, revision }));
  await each(
    ["main^{tree}", "main:src", "main^{tree}^{tree}", "topic", "languages"],
    (revision) => h.compare(CS, "ListFiles", { repository, revision }, { join: "paths" }),
  );
  await each(
    [{ from: merges[0], to: merges[1] }, { from: "languages", to: "topic", max_count: 3 }],
    (request) => h.compare(CS, "CountDivergingCommits", { repository, ...request }),
  );
  await h.compare(CS, "TreeEntry", {
    repository,
    revision: "main",
    path: HISTORY.bigFile,
    limit: 1000,
  }, { join: joinBlob });
  await h.compare(CS, "TreeEntry", { repository, revision: "main", path: "bin/data.bin" }, {
    join: joinBlob,
  });
});
