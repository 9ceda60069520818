/**
 * RepositoryService GetArchive, ours against the reference Gitaly: every
 * format, paths, exclusions, `elide_path`; archives are compared byte for
 * byte (git writes them deterministically from the commit, and both servers
 * compress with the same gzip and bzip2).
 *
 * @module
 */
import { differentialTest } from "./harness.ts";

const RS = "gitaly.RepositoryService";

differentialTest("GetArchive", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const commit_id = await h.git("ours", repository, ["rev-parse", "main"]);
  // The 5 MiB random blob only once (compressing it is slow), then every format without it.
  await h.compare(RS, "GetArchive", { repository, commit_id, prefix: "rich-main", format: 1 });
  for (const format of [0, 1, 2, 3]) {
    const exclude = ["large.bin"];
    await h.compare(RS, "GetArchive", { repository, commit_id, prefix: "p", format, exclude });
  }
  const variants = [
    { path: "files" },
    { path: "files", elide_path: true },
    { path: "files/", exclude: ["files/a.txt"], elide_path: true },
    { path: "nope" },
    { exclude: ["nope"] },
    { path: "../x" },
    { path: "files", elide_path: true, exclude: ["README.md"] },
  ];
  for (const variant of variants) {
    await h.compare(RS, "GetArchive", {
      repository,
      commit_id,
      prefix: "p",
      format: 1,
      ...variant,
    });
  }
  await h.compare(RS, "GetArchive", { repository, commit_id: "-x", prefix: "p", format: 1 });
  await h.compare(RS, "GetArchive", { repository, commit_id: "", prefix: "p", format: 1 });
  await h.compare(RS, "GetArchive", { repository, commit_id, prefix: "p", format: 9 as 0 });
  await h.compare(RS, "GetArchive", {
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
    commit_id,
    format: 1,
  });
});
