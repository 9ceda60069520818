/**
 * RefService, ours against the reference Gitaly: the read RPCs on the
 * fixtures and on bad input.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  type CallResult,
  differentialTest,
  type Harness,
  type Method,
  type RepoRef,
  type RequestOf,
} from "./harness.ts";

const RS = "gitaly.RefService";

const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };

/** Requests that name no usable repository. */
const BAD_REPOSITORIES: (RepoRef | undefined)[] = [
  missing,
  { storage_name: "nope", relative_path: "differential/rich.git" },
  { storage_name: "default", relative_path: "" },
  undefined,
];

/**
 * Where we answer better than Gitaly on purpose: asserts the reference's
 * code and our outcome (a code and message, or `ok`).
 */
async function better<M extends Method<typeof RS>>(
  h: Harness,
  method: M,
  request: RequestOf<typeof RS, M>,
  reference: string,
  ours: { code: string; message?: string } | "ok",
): Promise<CallResult> {
  const results = await h.call(RS, method, request);
  const outcome = (r: CallResult) => r.ok ? "ok" : r.codeName;
  assertEquals(outcome(results.reference), reference, `${method}: the reference's code`);
  if (ours === "ok") {
    assertEquals(outcome(results.ours), "ok", `${method}: ours`);
  } else {
    assertEquals(outcome(results.ours), ours.code, `${method}: our code`);
    if (ours.message !== undefined && !results.ours.ok) {
      assertEquals(results.ours.message, ours.message, `${method}: our message`);
    }
  }
  return results.ours;
}

async function fixtures(h: Harness): Promise<RepoRef[]> {
  return [
    await h.repo("rich", { shared: true }),
    await h.repo("manyrefs", { shared: true }),
    await h.repo("empty", { shared: true }),
  ];
}

differentialTest("FindDefaultBranchName", async (h) => {
  for (const repository of await fixtures(h)) {
    await h.compare(RS, "FindDefaultBranchName", { repository });
    await h.compare(RS, "FindDefaultBranchName", { repository, head_only: true });
  }
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindDefaultBranchName", { repository });
  }
  // HEAD pointing at a missing branch, at another branch, detached.
  const repository = await h.repo("rich");
  const both = (args: string[]) =>
    Promise.all([h.git("ours", repository, args), h.git("reference", repository, args)]);
  await both(["symbolic-ref", "HEAD", "refs/heads/nope"]);
  await h.compare(RS, "FindDefaultBranchName", { repository });
  await h.compare(RS, "FindDefaultBranchName", { repository, head_only: true });
  await both(["symbolic-ref", "HEAD", "refs/heads/feature/merged"]);
  await h.compare(RS, "FindDefaultBranchName", { repository });
  await both(["update-ref", "-d", "refs/heads/main"]);
  await both(["symbolic-ref", "HEAD", "refs/heads/nope"]);
  await h.compare(RS, "FindDefaultBranchName", { repository });
  await both(["update-ref", "--no-deref", "HEAD", "refs/heads/orphan"]);
  // A detached HEAD: Gitaly fails (Internal), we pick main, master or the first branch.
  const detached = await better(h, "FindDefaultBranchName", { repository }, "Internal", "ok");
  assertEquals(detached.ok && detached.responses, [{ name: "refs/heads/feature/fast-forward" }]);
  await h.compare(RS, "FindDefaultBranchName", { repository, head_only: true }, {
    message: "ignore",
  });
});

differentialTest("FindLocalBranches", async (h) => {
  for (const repository of await fixtures(h)) {
    for (const sort_by of [0, 1, 2]) {
      await h.compare(RS, "FindLocalBranches", { repository, sort_by }, { join: "none" });
    }
  }
  const [rich, manyrefs] = await fixtures(h);
  const pages = [
    { limit: 2 },
    { limit: 0 },
    { limit: -1 },
    { limit: 3, page_token: "refs/heads/feature/merged" },
    { limit: 100, page_token: "refs/heads/orphan" },
  ];
  for (const pagination_params of pages) {
    await h.compare(RS, "FindLocalBranches", { repository: rich, pagination_params }, {
      join: "none",
    });
  }
  // A page token naming no branch: Gitaly's message, InvalidArgument where it says Internal.
  for (
    const pagination_params of [
      { limit: 10, page_token: "refs/heads/nope" },
      // A page token without a limit: the limit is 0, so no line is read.
      { page_token: "refs/heads/feature/merged" },
      { limit: 0, page_token: "refs/heads/feature/merged" },
      { page_token: "feature/merged" },
    ]
  ) {
    await better(h, "FindLocalBranches", { repository: rich, pagination_params }, "Internal", {
      code: "InvalidArgument",
      message: "finding refs: sending lines: could not find page token",
    });
  }
  await h.compare(RS, "FindLocalBranches", {
    repository: manyrefs,
    pagination_params: { limit: 45, page_token: "refs/heads/branch-0100" },
  }, { join: "none" });
  await better(h, "FindLocalBranches", { repository: rich, sort_by: 7 as never }, "Internal", {
    code: "InvalidArgument",
    message: "unsupported sort key: 7",
  });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindLocalBranches", { repository });
  }
});

differentialTest("FindAllBranches", async (h) => {
  const [rich, manyrefs, empty] = await fixtures(h);
  for (const repository of [rich, manyrefs, empty]) {
    await h.compare(RS, "FindAllBranches", { repository }, { join: "none" });
  }
  for (const repository of [rich, manyrefs]) {
    await h.compare(RS, "FindAllBranches", { repository, merged_only: true }, { join: "none" });
  }
  // Without branches nothing is merged; Gitaly fails running `--merged=` (Internal).
  const none = await better(
    h,
    "FindAllBranches",
    { repository: empty, merged_only: true },
    "Internal",
    "ok",
  );
  assertEquals(none.ok && none.responses, []);
  await h.compare(RS, "FindAllBranches", {
    repository: rich,
    merged_only: true,
    merged_branches: [
      "refs/heads/feature/merged",
      "refs/heads/feature/unmerged",
      "refs/heads/nope",
    ],
  }, { join: "none" });
  await h.compare(RS, "FindAllBranches", {
    repository: rich,
    merged_branches: ["refs/heads/feature/merged"],
  }, { join: "none" });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindAllBranches", { repository });
  }
});

differentialTest("FindAllRemoteBranches", async (h) => {
  for (const repository of await fixtures(h)) {
    await h.compare(RS, "FindAllRemoteBranches", { repository, remote_name: "origin" }, {
      join: "none",
    });
  }
  const [rich] = await fixtures(h);
  for (const remote_name of ["nope", "orig", "origin/feature", ""]) {
    await h.compare(RS, "FindAllRemoteBranches", { repository: rich, remote_name }, {
      join: "none",
    });
  }
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindAllRemoteBranches", { repository, remote_name: "origin" });
  }
});

differentialTest("RefExists", async (h) => {
  const [rich, , empty] = await fixtures(h);
  for (
    const ref of [
      "refs/heads/main",
      "refs/heads/nope",
      "refs/heads/feature",
      "refs/tags/v1.0.0",
      "refs/remotes/origin/HEAD",
      "refs/heads/feature/ünicode",
      "refs/",
      "refs",
      "main",
      "HEAD",
      "",
    ]
  ) {
    await h.compare(RS, "RefExists", { repository: rich, ref });
  }
  await h.compare(RS, "RefExists", { repository: empty, ref: "refs/heads/main" });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "RefExists", { repository, ref: "refs/heads/main" });
  }
  // Loose, packed, symbolic, dangling and too deeply symbolic references.
  const repository = await h.repo("rich");
  const both = (args: string[]) =>
    Promise.all([h.git("ours", repository, args), h.git("reference", repository, args)]);
  await both(["symbolic-ref", "refs/heads/alias", "refs/heads/main"]);
  await both(["symbolic-ref", "refs/heads/dangling", "refs/heads/nope"]);
  await both(["symbolic-ref", "refs/heads/outside", "HEAD"]);
  for (let i = 1; i <= 6; i++) {
    await both(["symbolic-ref", `refs/heads/chain-${i}`, `refs/heads/chain-${i - 1}`]);
  }
  await both(["update-ref", "refs/heads/chain-0", "refs/heads/main"]);
  const symbolic = ["alias", "dangling", "outside", "chain-0", "chain-5", "chain-6"];
  const ask = async () => {
    for (const name of [...symbolic, "main", "nope"]) {
      await h.compare(RS, "RefExists", { repository, ref: `refs/heads/${name}` });
    }
    await h.compare(RS, "RefExists", { repository, ref: "refs/tags/v1.0.0" });
  };
  await ask();
  await both(["pack-refs", "--all"]);
  await ask();
  await both(["update-ref", "-d", "refs/heads/chain-0"]);
  await both(["update-ref", "refs/heads/loose-after-pack", "refs/heads/main"]);
  await ask();
  await h.compare(RS, "RefExists", { repository, ref: "refs/heads/loose-after-pack" });
});

differentialTest("FindBranch", async (h) => {
  const [rich, manyrefs, empty] = await fixtures(h);
  for (
    const name of [
      "main",
      "feature/merged",
      "feature/ünicode",
      "signed/gpg",
      "signed/ssh",
      "nope",
      "feature",
      "refs/heads/main",
      "heads/main",
    ]
  ) {
    await h.compare(RS, "FindBranch", { repository: rich, name }, { message: "ignore" });
  }
  await h.compare(RS, "FindBranch", { repository: rich, name: "" });
  await h.compare(RS, "FindBranch", { repository: manyrefs, name: "branch-0001" });
  await h.compare(RS, "FindBranch", { repository: empty, name: "main" });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindBranch", { repository, name: "main" });
  }
});

differentialTest("ListRefs", async (h) => {
  const [rich, manyrefs, empty] = await fixtures(h);
  const patternSets = [["refs/"], ["refs/heads/"], ["refs/tags/"], ["refs/heads/feature/*"], [
    "refs/nope/",
  ], [
    "refs/heads/main",
    "refs/tags/",
  ]];
  for (const repository of [rich, manyrefs, empty]) {
    for (const patterns of patternSets) {
      await h.compare(RS, "ListRefs", { repository, patterns }, { join: "none" });
      await h.compare(RS, "ListRefs", { repository, patterns, head: true }, { join: "none" });
      await h.compare(RS, "ListRefs", { repository, patterns, peel_tags: true }, { join: "none" });
    }
  }
  for (const key of [0, 1, 2, 3]) {
    for (const direction of [0, 1]) {
      await h.compare(RS, "ListRefs", {
        repository: rich,
        patterns: ["refs/"],
        sort_by: { key, direction },
      }, {
        join: "none",
      });
    }
  }
  const head = await h.git("ours", rich, ["rev-parse", "main"]);
  const tagged = await h.git("ours", rich, ["rev-parse", "v1.0.0^{}"]);
  const tagOid = await h.git("ours", rich, ["rev-parse", "v1.0.0"]);
  for (const oids of [[head], [head, tagged], [tagOid], ["0".repeat(40)]]) {
    await h.compare(RS, "ListRefs", {
      repository: rich,
      patterns: ["refs/"],
      pointing_at_oids: oids,
    }, {
      join: "none",
    });
  }
  await h.compare(RS, "ListRefs", { repository: rich, patterns: [] });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "ListRefs", { repository, patterns: ["refs/"] });
  }
});

differentialTest("FindRefsByOID", async (h) => {
  const [rich] = await fixtures(h);
  const head = await h.git("ours", rich, ["rev-parse", "main"]);
  const c2 = await h.git("ours", rich, ["rev-parse", "v1.0.0^{}"]);
  const tag = await h.git("ours", rich, ["rev-parse", "v1.0.0"]);
  const requests = [
    { oid: head },
    { oid: c2 },
    { oid: tag },
    { oid: head, ref_patterns: ["refs/remotes/"] },
    { oid: head, ref_patterns: ["refs/"] },
    { oid: head, ref_patterns: ["refs/"], limit: 2 },
    { oid: head, ref_patterns: ["refs/"], limit: -1 },
    { oid: head, ref_patterns: ["refs/"], sort_field: "-refname" },
    { oid: head.slice(0, 10) },
    { oid: "0".repeat(40) },
    { oid: "" },
  ];
  for (const request of requests) {
    await h.compare(RS, "FindRefsByOID", { repository: rich, ...request });
  }
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindRefsByOID", { repository, oid: head });
  }
});

differentialTest("FindTag", async (h) => {
  const [rich, manyrefs, empty] = await fixtures(h);
  for (
    const tag_name of [
      "v1.0.0",
      "v1.1.0",
      "v2.0.0",
      "v1.0.0-outer",
      "v2.0.0-signed",
      "blob-tag",
      "tree-tag",
      "nope",
      "v1.*",
    ]
  ) {
    await h.compare(RS, "FindTag", { repository: rich, tag_name });
  }
  await h.compare(RS, "FindTag", { repository: rich, tag_name: "" });
  await h.compare(RS, "FindTag", { repository: manyrefs, tag_name: "tag-0001" });
  await h.compare(RS, "FindTag", { repository: empty, tag_name: "v1" });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindTag", { repository, tag_name: "v1.0.0" });
  }
});

differentialTest("FindAllTags", async (h) => {
  for (const repository of await fixtures(h)) {
    await h.compare(RS, "FindAllTags", { repository }, { join: "none" });
  }
  const [rich] = await fixtures(h);
  for (const key of [0, 1, 2]) {
    for (const direction of [0, 1]) {
      await h.compare(RS, "FindAllTags", { repository: rich, sort_by: { key, direction } }, {
        join: "none",
      });
    }
  }
  const pages = [
    { limit: 2 },
    { limit: 0 },
    { limit: -1 },
    { limit: 2, page_token: "refs/tags/v1.0.0" },
    { limit: 100, page_token: "refs/tags/v1.1.0" },
    { page_token: "refs/tags/nope" },
    { page_token: "v1.0.0" },
  ];
  for (const pagination_params of pages) {
    await h.compare(RS, "FindAllTags", { repository: rich, pagination_params }, { join: "none" });
  }
  await h.compare(RS, "FindAllTags", {
    repository: rich,
    sort_by: { key: 9 as never, direction: 0 },
  });
  for (const repository of BAD_REPOSITORIES) {
    await h.compare(RS, "FindAllTags", { repository });
  }
});

differentialTest("bad names and revisions", async (h) => {
  const [rich] = await fixtures(h);
  const repository = rich;
  const invalid = (message: string) => ({ code: "InvalidArgument", message });
  await better(
    h,
    "FindBranch",
    { repository, name: "a\0b" },
    "Internal",
    invalid("branch name can't contain NUL"),
  );
  await h.compare(RS, "FindBranch", { repository, name: "-x" });
  await better(
    h,
    "RefExists",
    { repository, ref: "refs/a\0" },
    "Internal",
    invalid("ref can't contain NUL"),
  );
  await h.compare(RS, "RefExists", { repository, ref: "refs/heads/-x" });
  await better(
    h,
    "FindTag",
    { repository, tag_name: "-x" },
    "Internal",
    invalid("tag name can't start with '-'"),
  );
  await better(
    h,
    "FindTag",
    { repository, tag_name: "a\0b" },
    "Internal",
    invalid("tag name can't contain NUL"),
  );
  await better(
    h,
    "ListRefs",
    { repository, patterns: ["-x"] },
    "Internal",
    invalid("pattern can't start with '-'"),
  );
  await better(
    h,
    "ListRefs",
    { repository, patterns: ["refs/"], pointing_at_oids: ["zz"] },
    "Internal",
    invalid("malformed object name 'zz'"),
  );
  await h.compare(RS, "FindAllRemoteBranches", { repository, remote_name: "-x" });
  await better(
    h,
    "FindAllBranches",
    { repository, merged_only: true, merged_branches: ["-x"] },
    "Internal",
    invalid("merged branch can't start with '-'"),
  );
  await h.compare(RS, "FindRefsByOID", { repository, oid: "-x" }, { message: "ignore" });
  await h.compare(RS, "FindRefsByOID", { repository, oid: "zzz" });
  const head = await h.git("ours", rich, ["rev-parse", "main"]);
  await better(
    h,
    "FindRefsByOID",
    { repository, oid: head, sort_field: "bogus" },
    "Internal",
    invalid("for-each-ref pipeline command: exit status 128"),
  );
});

differentialTest("tags with non-ASCII names", async (h) => {
  const repository = await h.repo("rich");
  for (const side of ["ours", "reference"] as const) {
    await h.git(side, repository, ["tag", "ünicode-light", "main"]);
    await h.git(side, repository, [
      "tag",
      "-a",
      "-m",
      "Ünicode message\n",
      "ünicode-annotated",
      "main",
    ]);
  }
  await h.compare(RS, "FindTag", { repository, tag_name: "ünicode-light" });
  await h.compare(RS, "FindTag", { repository, tag_name: "ünicode-annotated" });
  await h.compare(RS, "FindTag", { repository, tag_name: "ünicode-nope" });
  await h.compare(RS, "FindAllTags", {
    repository,
    pagination_params: { limit: 10, page_token: "refs/tags/ünicode-annotated" },
  }, { join: "none" });
  await h.compare(RS, "ListRefs", { repository, patterns: ["refs/tags/ü*"], peel_tags: true }, {
    join: "none",
  });
});
