/**
 * RefService's commit-containment and tag-object RPCs, ours against the
 * reference Gitaly: ListBranchNamesContainingCommit,
 * ListTagNamesContainingCommit, GetTagSignatures and GetTagMessages, on the
 * shared fixtures and on bad input.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { type CallResult, differentialTest, type RepoRef } from "./harness.ts";

const RS = "gitaly.RefService";
const MISSING = "1".repeat(40);

const BAD_REPOSITORIES: (RepoRef | undefined)[] = [
  { storage_name: "default", relative_path: "differential/missing.git" },
  { storage_name: "nope", relative_path: "differential/rich.git" },
  { storage_name: "default", relative_path: "" },
  undefined,
];

function codeName(result: CallResult): string {
  return result.ok ? "OK" : result.codeName;
}

const CONTAINING = ["ListBranchNamesContainingCommit", "ListTagNamesContainingCommit"] as const;

differentialTest("List*NamesContainingCommit: commits of the fixtures, limits", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const commits = (await h.git("ours", rich, ["rev-list", "--all"])).trim().split("\n");
  const many = await h.repo("manyrefs", { shared: true });
  const manyCommits = (await h.git("ours", many, ["rev-list", "main"])).trim().split("\n");
  for (const method of CONTAINING) {
    const join = method === CONTAINING[0] ? "branch_names" : "tag_names";
    for (const commit_id of commits) {
      await h.compare(RS, method, { repository: rich, commit_id }, { join: "none" });
    }
    for (const limit of [0, 1, 3, 2 ** 31 - 1]) {
      await h.compare(RS, method, { repository: rich, commit_id: commits.at(-1)!, limit });
    }
    // A negative limit arrives as a uint32 beyond git's INT_MAX: Gitaly fails
    // ("exit status 129"), we list everything as for limit 0.
    const results = await h.call(RS, method, {
      repository: rich,
      commit_id: commits.at(-1)!,
      limit: 2 ** 32 - 1,
    });
    assertEquals(codeName(results.reference), "Internal");
    const unlimited = await h.callSide("ours", RS, method, {
      repository: rich,
      commit_id: commits.at(-1)!,
    });
    assertEquals(results.ours, unlimited);
    // Over a thousand names: the batching must match too.
    for (const commit_id of [manyCommits.at(-1)!, manyCommits[10]]) {
      await h.compare(RS, method, { repository: many, commit_id }, { join: "none" });
      await h.compare(RS, method, { repository: many, commit_id, limit: 5 }, { join });
    }
  }
});

differentialTest("List*NamesContainingCommit: bad commit ids and repositories", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const main = (await h.git("ours", rich, ["rev-parse", "main"])).trim();
  for (const method of CONTAINING) {
    for (const commit_id of ["", "main", main.slice(0, 7), main.toUpperCase(), "-".repeat(40)]) {
      await h.compare(RS, method, { repository: rich, commit_id });
    }
    await h.compare(RS, method, { repository: rich, commit_id: `${"a".repeat(39)}\0` });
    for (const repository of BAD_REPOSITORIES) {
      await h.compare(RS, method, { repository, commit_id: main });
    }
    // Gitaly answers Internal "exit status 129" for these; we say what is wrong.
    const tree = (await h.git("ours", rich, ["rev-parse", "main^{tree}"])).trim();
    for (const [commit_id, ours] of [[MISSING, "NotFound"], [tree, "InvalidArgument"]]) {
      const results = await h.call(RS, method, { repository: rich, commit_id });
      assertEquals(codeName(results.reference), "Internal");
      assertEquals(codeName(results.ours), ours, `${method} ${commit_id}`);
    }
  }
});

differentialTest("GetTagSignatures: tags of the fixtures", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const many = await h.repo("manyrefs", { shared: true });
  const requests: [RepoRef, string[]][] = [
    [rich, ["--all"]],
    [rich, ["v2.0.0-signed"]],
    [rich, ["refs/tags/v1.0.0-outer"]],
    [rich, ["tree-tag", "v2.0.0"]],
    [rich, ["--all", "--not", "v1.0.0-outer"]],
    [rich, ["blob-tag", "main"]],
    [rich, ["--tags"]],
    [rich, ["--branches"]],
    [many, ["--all"]],
  ];
  for (const [repository, tag_revisions] of requests) {
    // rev-list's order of tag objects is git's; compare the set.
    await h.compare(RS, "GetTagSignatures", { repository, tag_revisions }, {
      join: "signatures",
      sort: true,
    });
  }
  const signed = await h.compare(RS, "GetTagSignatures", {
    repository: rich,
    tag_revisions: ["v2.0.0-signed"],
  }, { join: "signatures" });
  const [only] = (signed.ours.ok ? signed.ours.responses : []) as { signature: string }[];
  assertEquals(only.signature.startsWith("-----BEGIN PGP SIGNATURE-----"), true);
});

differentialTest("GetTagSignatures: bad revisions and repositories", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  for (const tag_revisions of [[], ["-x"], [""], ["a\0b"], ["a b"], ["a:b"], ["--foo"]]) {
    await h.compare(RS, "GetTagSignatures", { repository: rich, tag_revisions });
  }
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "GetTagSignatures", { repository, tag_revisions: ["--all"] });
  }
  // Gitaly answers Internal with rev-list's stderr; we keep the message and say NotFound.
  for (const revision of [MISSING, "no-such-tag"]) {
    const results = await h.call(RS, "GetTagSignatures", {
      repository: rich,
      tag_revisions: [revision],
    });
    assertEquals(codeName(results.reference), "Internal");
    assertEquals(codeName(results.ours), "NotFound");
    assertEquals(
      results.ours.ok ? "" : results.ours.message,
      results.reference.ok ? "" : results.reference.message,
    );
  }
});

differentialTest("GetTagMessages: annotated tags by id and by name", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const annotated = (await h.git("ours", rich, [
    "for-each-ref",
    "--format=%(objectname) %(objecttype) %(refname)",
    "refs/tags",
  ])).trim().split("\n").map((line) => line.split(" ")).filter(([, type]) => type === "tag");
  const ids = annotated.map(([oid]) => oid);
  await h.compare(RS, "GetTagMessages", { repository: rich, tag_ids: ids }, { join: "none" });
  await h.compare(RS, "GetTagMessages", {
    repository: rich,
    tag_ids: ["v2.0.0-signed", "refs/tags/v1.0.0", ids[0], ids[0]],
  }, { join: "none" });
  await h.compare(RS, "GetTagMessages", { repository: rich, tag_ids: [] }, { join: "none" });
  const many = await h.repo("manyrefs", { shared: true });
  await h.compare(RS, "GetTagMessages", {
    repository: many,
    tag_ids: ["annotated-000", "annotated-099"],
  }, { join: "none" });
});

differentialTest("GetTagMessages: ids that name no tag", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  await h.compare(RS, "GetTagMessages", { repository: rich, tag_ids: ["a\0b"] });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "GetTagMessages", { repository, tag_ids: ["v2.0.0"] });
  }
  // Gitaly: Internal; ours NotFound or InvalidArgument, with Gitaly's message.
  const cases: [string[], string][] = [
    [[MISSING], "NotFound"],
    [[""], "NotFound"],
    [["main"], "InvalidArgument"],
    [["v1.1.0"], "InvalidArgument"], // lightweight: a commit
    [["blob-tag"], "InvalidArgument"],
    [["v2.0.0", "no-such-tag"], "NotFound"],
  ];
  for (const [tag_ids, ours] of cases) {
    const results = await h.call(RS, "GetTagMessages", { repository: rich, tag_ids });
    assertEquals(codeName(results.reference), "Internal", JSON.stringify(tag_ids));
    assertEquals(codeName(results.ours), ours, JSON.stringify(tag_ids));
    assertEquals(
      results.ours.ok ? "" : results.ours.message,
      results.reference.ok ? "" : results.reference.message,
    );
  }
});
