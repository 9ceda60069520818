/**
 * DiffService, ours against the reference Gitaly, on the rich fixture:
 * every RPC on normal cases (renames, binary and submodule changes,
 * Latin-1 paths, merges, root commits), with GitLab's limits, and on bad
 * input.
 *
 * @module
 */
import { differentialTest, type RepoRef } from "./harness.ts";

const DS = "gitaly.DiffService";

/** Commit pairs worth diffing in the rich fixture, as revisions both sides resolve alike. */
const PAIRS: [string, string][] = [
  ["main~1", "main"],
  ["main~3", "main"],
  ["feature/unmerged", "main"],
  ["main", "feature/unmerged"],
  ["orphan", "main"],
  ["main^{/Initial commit}", "main"],
  ["feature/merged", "feature/stale"],
];

async function resolve(
  h: { git: (s: "ours", r: RepoRef, a: string[]) => Promise<string> },
  repo: RepoRef,
  rev: string,
) {
  return await h.git("ours", repo, ["rev-parse", `${rev}^{commit}`]);
}

differentialTest("CommitDiff and CommitDelta: commit pairs", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  for (const [l, r] of PAIRS) {
    const ids = {
      repository,
      left_commit_id: await resolve(h, repository, l),
      right_commit_id: await resolve(h, repository, r),
    };
    await h.compare(DS, "CommitDiff", ids, { join: "none" });
    await h.compare(DS, "CommitDelta", ids);
    await h.compare(DS, "CommitDiff", { ...ids, paths: ["README.md", "files"] }, { join: "none" });
    await h.compare(DS, "CommitDiff", { ...ids, diff_mode: 1 }, { join: "none" });
    await h.compare(DS, "CommitDiff", { ...ids, whitespace_changes: 1 }, { join: "none" });
    await h.compare(DS, "CommitDiff", { ...ids, whitespace_changes: 2 }, { join: "none" });
  }
});

differentialTest("CommitDiff: limits", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const ids = {
    repository,
    left_commit_id: await resolve(h, repository, "orphan"),
    right_commit_id: await resolve(h, repository, "main"),
  };
  const variants = [
    {
      enforce_limits: true,
      max_files: 2,
      max_lines: 1000,
      max_bytes: 100000,
      max_patch_bytes: 100000,
    },
    {
      enforce_limits: true,
      max_files: 50,
      max_lines: 5,
      max_bytes: 100000,
      max_patch_bytes: 100000,
    },
    {
      enforce_limits: true,
      max_files: 50,
      max_lines: 1000,
      max_bytes: 100,
      max_patch_bytes: 100000,
    },
    { enforce_limits: true, max_files: 50, max_lines: 1000, max_bytes: 100000 },
    {
      enforce_limits: true,
      max_files: 50,
      max_lines: 1000,
      max_bytes: 100000,
      max_patch_bytes: 10,
    },
    {
      enforce_limits: true,
      max_files: 50,
      max_lines: 1000,
      max_bytes: 100000,
      max_patch_bytes: 10,
      max_patch_bytes_for_file_extension: { ".md": 100000 },
    },
    { collapse_diffs: true, safe_max_files: 1, safe_max_lines: 1000, safe_max_bytes: 100000 },
    { collapse_diffs: true },
    {
      enforce_limits: true,
      max_files: 2,
      max_lines: 1000,
      max_bytes: 100000,
      max_patch_bytes: 100000,
      collect_all_paths: true,
    },
    {
      enforce_limits: true,
      max_files: 100000,
      max_lines: 10000000,
      max_bytes: 1 << 30,
      max_patch_bytes: 1 << 30,
    },
  ];
  for (const limits of variants) {
    await h.compare(DS, "CommitDiff", { ...ids, ...limits }, { join: "none" });
  }
});

differentialTest("RawDiff, RawPatch, DiffStats, FindChangedPaths, GetPatchID", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  for (const [l, r] of PAIRS) {
    const left = await resolve(h, repository, l);
    const right = await resolve(h, repository, r);
    const ids = { repository, left_commit_id: left, right_commit_id: right };
    await h.compare(DS, "RawDiff", ids);
    await h.compare(DS, "DiffStats", ids);
    if (l !== "orphan") await h.compare(DS, "RawPatch", ids);
    await h.compare(DS, "GetPatchID", { repository, old_revision: left, new_revision: right });
    await h.compare(DS, "FindChangedPaths", { repository, commits: [right] });
    await h.compare(DS, "FindChangedPaths", {
      repository,
      requests: [
        {
          tree_request: {
            left_tree_revision: `${left}^{tree}`,
            right_tree_revision: `${right}^{tree}`,
          },
        },
        { commit_request: { commit_revision: right, parent_commit_revisions: [left] } },
      ],
    });
  }
  const merge = await resolve(h, repository, "main^{/Merge branch}");
  for (const mode of [0, 1, 2]) {
    await h.compare(DS, "FindChangedPaths", {
      repository,
      commits: [merge],
      merge_commit_diff_mode: mode,
    });
  }
});

differentialTest("DiffService: bad input", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const main = await resolve(h, repository, "main");
  const missing = { storage_name: "default", relative_path: "differential/missing.git" };
  for (const method of ["CommitDiff", "CommitDelta", "RawDiff", "RawPatch", "DiffStats"] as const) {
    await h.compare(DS, method, { repository, left_commit_id: "", right_commit_id: main });
    await h.compare(DS, method, { repository, left_commit_id: main, right_commit_id: "" });
    await h.compare(DS, method, { repository, left_commit_id: main, right_commit_id: "deadbeef" });
    await h.compare(DS, method, {
      repository: missing,
      left_commit_id: main,
      right_commit_id: main,
    });
    await h.compare(DS, method, { left_commit_id: main, right_commit_id: main });
  }
  await h.compare(DS, "GetPatchID", { repository, old_revision: main, new_revision: main });
  await h.compare(DS, "GetPatchID", { repository, old_revision: "", new_revision: main });
  await h.compare(DS, "GetPatchID", { repository, old_revision: main, new_revision: "" });
  await h.compare(DS, "FindChangedPaths", { repository, commits: ["nope"] });
  await h.compare(DS, "FindChangedPaths", { repository, commits: [""] });
  await h.compare(DS, "FindChangedPaths", {
    repository,
    commits: [main],
    requests: [{ tree_request: { left_tree_revision: "a", right_tree_revision: "b" } }],
  });
  await h.compare(DS, "FindChangedPaths", {
    repository,
    requests: [{ tree_request: { left_tree_revision: "nope", right_tree_revision: main } }],
  });
});
