/**
 * RepositoryService's checksum, size, fsck, full path and attributes RPCs,
 * ours against the reference Gitaly.
 *
 * @module
 */
import { differentialTest, type RepoRef } from "./harness.ts";

const RS = "gitaly.RepositoryService";
const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };

differentialTest("CalculateChecksum", async (h) => {
  for (const fixture of ["rich", "manyrefs", "empty"] as const) {
    await h.compare(RS, "CalculateChecksum", {
      repository: await h.repo(fixture, { shared: true }),
    });
  }
  await h.compare(RS, "CalculateChecksum", { repository: missing });
  await h.compare(RS, "CalculateChecksum", {});
  // Only refs outside the counted namespaces (and HEAD pointing nowhere).
  const repository = await h.repo("rich");
  for (const side of ["ours", "reference"] as const) {
    const refs = await h.git(side, repository, ["for-each-ref", "--format=%(refname)"]);
    for (const ref of refs.split("\n")) {
      if (!ref.startsWith("refs/remotes/")) {
        await h.git(side, repository, ["update-ref", "-d", ref]);
      }
    }
  }
  await h.compare(RS, "CalculateChecksum", { repository });
});

differentialTest("ObjectsSize", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases = [
    [{ repository, revisions: ["main"] }],
    [{ repository, revisions: ["main", "feature/unmerged"] }],
    [{ repository, revisions: ["--all"] }],
    // Not compared: `--not` across requests. The reference's git 2.42 ignores `--not` read
    // from stdin (the size is that of `main` alone); ours excludes what follows it, as on
    // git's command line (tests/service/repository/maintenance_test.ts).
    [{ repository, revisions: ["nope"] }],
    [{ repository, revisions: ["-x"] }],
    [{ repository, revisions: [] }],
    [{ repository, revisions: ["main"] }, { repository, revisions: ["main"] }],
    [{ repository: missing, revisions: ["main"] }],
  ];
  for (const requests of cases) await h.compare(RS, "ObjectsSize", requests);
});

differentialTest("Fsck", async (h) => {
  for (const fixture of ["rich", "empty"] as const) {
    await h.compare(RS, "Fsck", { repository: await h.repo(fixture, { shared: true }) });
  }
  await h.compare(RS, "Fsck", { repository: missing });
  const broken = await h.repo("rich");
  for (const side of ["ours", "reference"] as const) {
    await Deno.writeTextFile(`${h.gitDir(side, broken)}/refs/heads/broken`, "1".repeat(40) + "\n");
  }
  await h.compare(RS, "Fsck", { repository: broken });
});

differentialTest("FullPath and SetFullPath", async (h) => {
  const repository = await h.repo("rich");
  await h.compare(RS, "FullPath", { repository });
  await h.compare(RS, "SetFullPath", { repository, path: "group/project" });
  await h.compare(RS, "FullPath", { repository });
  await h.compare(RS, "SetFullPath", { repository, path: "with spaces/and ünicode" });
  await h.compare(RS, "FullPath", { repository });
  await h.compare(RS, "SetFullPath", { repository, path: "" });
  await h.compare(RS, "SetFullPath", { repository: missing, path: "x" });
  await h.compare(RS, "FullPath", { repository: missing });
});

differentialTest("GetFileAttributes", async (h) => {
  const repository = await h.repo("rich");
  for (const side of ["ours", "reference"] as const) {
    await Deno.mkdir(`${h.gitDir(side, repository)}/info`, { recursive: true });
    await Deno.writeTextFile(
      `${h.gitDir(side, repository)}/info/attributes`,
      "*.bin binary\n*.md text diff=markdown\nfiles/** linguist-generated gitlab-language=go\n",
    );
  }
  const paths = ["README.md", "large.bin", "files/a.txt", "nope/x.c", "x.png"];
  const attributes = ["text", "binary", "diff", "merge", "linguist-generated", "gitlab-language"];
  await h.compare(RS, "GetFileAttributes", { repository, revision: "main", attributes, paths });
  await h.compare(RS, "GetFileAttributes", { repository, revision: "orphan", attributes, paths });
  await h.compare(RS, "GetFileAttributes", { repository, revision: "", attributes, paths });
  await h.compare(RS, "GetFileAttributes", { repository, revision: "main", attributes: [], paths });
  await h.compare(RS, "GetFileAttributes", { repository, revision: "main", attributes, paths: [] });
  // Gitaly 16.7 answers a missing revision with Internal `check attr: read line: EOF`.
  await h.compare(RS, "GetFileAttributes", { repository, revision: "nope", attributes, paths }, {
    message: "ignore",
  });
});
