/**
 * CleanupService ApplyBfgObjectMapStream, ours against the reference Gitaly:
 * the entries reported and the internal references left behind.
 *
 * @module
 */
import { differentialTest } from "./harness.ts";

const CS = "gitaly.CleanupService";

differentialTest("ApplyBfgObjectMapStream", async (h) => {
  const repository = await h.repo("rich");
  const refs = await h.compareRefs(repository);
  const keepAround = Object.keys(refs).find((r) => r.startsWith("refs/keep-around/"))!;
  const mergeRequest = refs["refs/merge-requests/1/head"];
  const main = refs["refs/heads/main"];
  const blob = await h.git("ours", repository, ["rev-parse", "main:README.md"]);
  const map = [
    "old                                      new",
    `${refs[keepAround]} ${main}`,
    `${mergeRequest} ${blob}`,
    `${main} ${main}`,
    `${"1".repeat(40)} ${"2".repeat(40)}`,
    "",
  ].join("\n");
  // Split over three messages, mid-line.
  const cut = [map.slice(0, 30), map.slice(30, 100), map.slice(100)];
  await h.compare(CS, "ApplyBfgObjectMapStream", [
    { repository, object_map: cut[0] },
    { object_map: cut[1] },
    { object_map: cut[2] },
  ]);
  await h.compareRefs(repository);

  const again = await h.repo("rich");
  await h.compare(CS, "ApplyBfgObjectMapStream", [
    { repository: again, object_map: `${main} ${main}\nnot a line\n` },
  ]);
  await h.compareRefs(again);
  for (
    const bad of ["nospace", `${main} nope`, `${main} ${main} extra`, `${main.slice(2)} ${main}`]
  ) {
    await h.compare(CS, "ApplyBfgObjectMapStream", [{ repository: again, object_map: `${bad}\n` }]);
  }
  await h.compare(CS, "ApplyBfgObjectMapStream", [{ repository: again, object_map: "" }]);
  await h.compare(CS, "ApplyBfgObjectMapStream", [{ object_map: `${main} ${main}\n` }]);
  await h.compare(CS, "ApplyBfgObjectMapStream", [{
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
    object_map: "",
  }]);
});
