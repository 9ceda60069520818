/**
 * RepositoryService, ours against the reference Gitaly: the RPCs we answer
 * so far, on fixtures and on bad input.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { differentialTest, type RepoRef } from "./harness.ts";

const RS = "gitaly.RepositoryService";

const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };
const badStorage: RepoRef = { storage_name: "nope", relative_path: "differential/rich.git" };

/** Requests that name no usable repository, each with a name. */
function badRepositories(good: RepoRef): [string, RepoRef | undefined][] {
  return [
    ["missing", missing],
    ["unknown storage", badStorage],
    ["empty relative path", { storage_name: "default", relative_path: "" }],
    ["empty storage", { storage_name: "", relative_path: good.relative_path }],
    ["path traversal", { storage_name: "default", relative_path: "../../etc" }],
    ["no repository", undefined],
  ];
}

differentialTest("RepositoryExists", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(RS, "RepositoryExists", { repository: rich });
  await h.compare(RS, "RepositoryExists", { repository: empty });
  for (const [, repository] of badRepositories(rich)) {
    await h.compare(RS, "RepositoryExists", { repository });
  }
});

differentialTest("HasLocalBranches", async (h) => {
  for (const fixture of ["rich", "manyrefs", "empty"] as const) {
    const repository = await h.repo(fixture, { shared: true });
    await h.compare(RS, "HasLocalBranches", { repository });
  }
  const rich = await h.repo("rich", { shared: true });
  for (const [, repository] of badRepositories(rich)) {
    await h.compare(RS, "HasLocalBranches", { repository });
  }
});

differentialTest("ObjectFormat", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  await h.compare(RS, "ObjectFormat", { repository: rich });
  await h.compare(RS, "ObjectFormat", { repository: await h.repo("empty", { shared: true }) });
  for (const [, repository] of badRepositories(rich)) {
    await h.compare(RS, "ObjectFormat", { repository });
  }
});

differentialTest("WriteRef", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const main = refs["refs/heads/main"];
  const stale = refs["refs/heads/feature/stale"];
  const write = (ref: string, revision: string, old_revision = "") =>
    h.compare(RS, "WriteRef", { repository, ref, revision, old_revision });
  await write("refs/heads/new", main);
  await write("refs/heads/feature/stale", main, stale);
  await write("refs/heads/feature/merged", stale, "");
  await write("refs/tags/v-new", "refs/heads/orphan");
  await write("refs/keep-around/" + main, main);
  await write("HEAD", "refs/heads/feature/unmerged");
  await h.compareRefs(repository);
});

differentialTest("WriteRef: bad input", async (h) => {
  const repository = await h.repo("rich");
  const main = (await h.compareRefs(repository))["refs/heads/main"];
  await h.compare(RS, "WriteRef", { repository, ref: "", revision: main });
  await h.compare(RS, "WriteRef", { repository, ref: "refs/heads/x", revision: "" });
  await h.compare(RS, "WriteRef", { repository: missing, ref: "refs/heads/x", revision: main });
  await h.compare(RS, "WriteRef", { repository: badStorage, ref: "refs/heads/x", revision: main });
  await h.compareRefs(repository);
});

differentialTest("RepositoryInfo and RepositorySize", async (h) => {
  for (const fixture of ["rich", "manyrefs", "empty"] as const) {
    const repository = await h.repo(fixture, { shared: true });
    await h.compare(RS, "RepositoryInfo", { repository });
    await h.compare(RS, "RepositorySize", { repository });
  }
  const rich = await h.repo("rich", { shared: true });
  for (const [, repository] of badRepositories(rich)) {
    await h.compare(RS, "RepositoryInfo", { repository });
    await h.compare(RS, "RepositorySize", { repository });
  }
});

differentialTest("GetConfig", async (h) => {
  const repository = await h.repo("rich");
  await h.compare(RS, "GetConfig", { repository });
  for (const side of ["ours", "reference"] as const) {
    await h.git(side, repository, ["config", "remote.origin.url", "https://example.com/x.git"]);
    await h.git(side, repository, ["config", "--add", "remote.origin.fetch", "+refs/*:refs/*"]);
    await h.git(side, repository, ["config", "gitlab.fullpath", "group/caf\u00e9"]);
  }
  await h.compare(RS, "GetConfig", { repository });
  await h.compare(RS, "GetConfig", { repository: await h.repo("empty", { shared: true }) });
  for (const [, bad] of badRepositories(repository)) {
    await h.compare(RS, "GetConfig", { repository: bad });
  }
});

differentialTest("the harness notices a difference", async (h) => {
  const repository = await h.repo("rich");
  await h.git("ours", repository, ["update-ref", "refs/heads/only-ours", "main"]);
  await assertRejects(h.compareRefs(repository), /differ at refs\/heads\/only-ours/);
  await assertRejects(
    h.compare(RS, "HasLocalBranches", (side) => ({
      repository: side === "ours" ? repository : missing,
    })),
    /differ at ok/,
  );
});

differentialTest("the harness decodes error details", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const result = await h.callSide("reference", "gitaly.RefService", "FindTag", {
    repository,
    tag_name: "no-such-tag",
  });
  assertEquals(result, {
    ok: false,
    code: 5,
    codeName: "NotFound",
    message: "tag does not exist",
    details: [{
      type_url: "type.googleapis.com/gitaly.FindTagError",
      message: { tag_not_found: { reference_name: "refs/tags/no-such-tag" } },
    }],
  });
});
