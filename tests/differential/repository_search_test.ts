/**
 * RepositoryService's read-only searches, ours against the reference
 * Gitaly: FindMergeBase, GetRawChanges, SearchFilesByName,
 * SearchFilesByContent.
 *
 * @module
 */
import { differentialTest } from "./harness.ts";

const RS = "gitaly.RepositoryService";
const ZERO = "0".repeat(40);

differentialTest("FindMergeBase", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases = [
    ["main", "feature/unmerged"],
    ["feature/merged", "feature/unmerged", "main"],
    ["main", "orphan"],
    ["main", "nope"],
    ["main"],
    [],
  ];
  for (const revisions of cases) await h.compare(RS, "FindMergeBase", { repository, revisions });
  const empty = await h.repo("empty", { shared: true });
  await h.compare(RS, "FindMergeBase", { repository: empty, revisions: ["a", "b"] });
});

differentialTest("GetRawChanges", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const rev = (r: string) => h.git("ours", repository, ["rev-parse", r]);
  const main = await rev("main");
  const pairs = [
    [await rev("main~3"), main],
    [await rev("feature/unmerged"), main],
    [ZERO, main],
    [main, ZERO],
    [await rev("orphan"), main],
    ["main~2", "main"],
    ["nope", main],
    [main, "nope"],
    ["", main],
  ];
  for (const [from_revision, to_revision] of pairs) {
    await h.compare(RS, "GetRawChanges", { repository, from_revision, to_revision });
  }
});

differentialTest("SearchFilesByName", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases = [
    { query: ".", ref: "main" },
    { query: "files", ref: "main" },
    { query: "*.md", ref: "main" },
    { query: ".", ref: "main", filter: "\\.bin$" },
    { query: ".", ref: "main", limit: 2 },
    { query: ".", ref: "main", offset: 2, limit: 3 },
    { query: ".", ref: "feature/unmerged" },
    { query: ".", ref: "nope" },
    { query: "", ref: "main" },
    { query: ".", ref: "" },
    { query: ".", ref: "-main" },
    { query: ".", ref: "main", filter: "x".repeat(1001) },
  ];
  for (const c of cases) await h.compare(RS, "SearchFilesByName", { repository, ...c });
});

differentialTest("SearchFilesByContent", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const cases = [
    { query: "readme", ref: "main" },
    { query: "^version", ref: "main" },
    { query: "oid sha256", ref: "main" },
    { query: "nothing matches this", ref: "main" },
    { query: "a", ref: "nope" },
    { query: "", ref: "main" },
    { query: "a", ref: "-x" },
  ];
  for (const c of cases) {
    await h.compare(RS, "SearchFilesByContent", { repository, ...c }, { join: "none" });
  }
});
