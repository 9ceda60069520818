/**
 * RepositoryService, ours against the reference Gitaly: the RPCs we answer
 * so far, on fixtures and on bad input.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { ObjectFormat } from "../../src/proto/types.ts";
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

differentialTest("CreateRepository and RemoveRepository", async (h) => {
  const created = (name: string): RepoRef => ({
    storage_name: "default",
    relative_path: `differential/created-${name}.git`,
  });
  await h.compare(RS, "CreateRepository", { repository: created("plain") });
  await h.compareRefs(created("plain"));
  await h.compare(RS, "CreateRepository", {
    repository: created("sha256"),
    default_branch: "trunk",
    object_format: ObjectFormat.OBJECT_FORMAT_SHA256,
  });
  await h.compareRefs(created("sha256"));
  await h.compare(RS, "ObjectFormat", { repository: created("sha256") });
  await h.compare(RS, "CreateRepository", { repository: created("sha256") });
  await h.compare(RS, "CreateRepository", {
    repository: created("bad-format"),
    object_format: 7 as ObjectFormat,
  });
  await h.compare(RS, "CreateRepository", { repository: badStorage });
  await h.compare(RS, "CreateRepository", { repository: undefined });

  const repository = await h.repo("rich");
  await h.compare(RS, "RemoveRepository", { repository });
  await h.compare(RS, "RepositoryExists", { repository });
  await h.compare(RS, "RemoveRepository", { repository: missing });
  await h.compare(RS, "RemoveRepository", { repository: badStorage });
});

differentialTest("GetInfoAttributes, GetCustomHooks, GetObjectDirectorySize", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  await h.compare(RS, "GetInfoAttributes", { repository: rich });
  await h.compare(RS, "GetCustomHooks", { repository: rich });
  await h.compare(RS, "BackupCustomHooks", { repository: rich });
  await h.compare(RS, "GetObjectDirectorySize", {
    repository: { ...rich, git_object_directory: "objects" },
  });
  const repository = await h.repo("rich");
  for (const side of ["ours", "reference"] as const) {
    await Deno.mkdir(`${h.gitDir(side, repository)}/info`, { recursive: true });
    await Deno.writeTextFile(
      `${h.gitDir(side, repository)}/info/attributes`,
      "*.bin binary\n*.md diff=markdown\n",
    );
  }
  await h.compare(RS, "GetInfoAttributes", { repository });
  for (const [, bad] of badRepositories(rich)) {
    await h.compare(RS, "GetInfoAttributes", { repository: bad });
  }
});

differentialTest("RepositoryInfo after writing refs", async (h) => {
  const repository = await h.repo("rich");
  const main = (await h.compareRefs(repository))["refs/heads/main"];
  for (let i = 0; i < 3; i++) {
    await h.compare(RS, "WriteRef", { repository, ref: `refs/heads/more-${i}`, revision: main });
  }
  await h.compare(RS, "RepositoryInfo", { repository });
  await h.compare(RS, "RepositorySize", { repository });
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
