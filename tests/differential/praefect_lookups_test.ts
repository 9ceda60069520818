/**
 * What Praefect asks of a node besides the RPCs of the other files:
 * InternalGitaly WalkRepos and ObjectPoolService GetObjectPool, ours
 * against the reference Gitaly.
 *
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { differentialTest, SIDES } from "./harness.ts";

const POOL = "@pools/ab/cd/abcd" + "0".repeat(60) + ".git";

differentialTest("WalkRepos", async (h) => {
  await h.repo("rich", { shared: true });
  await h.repo("empty", { shared: true });
  await h.compare("gitaly.InternalGitaly", "WalkRepos", { storage_name: "default" }, {
    // Copies of one fixture can differ in mtime by the copy; the set and order must agree.
    ignoreFields: ["modification_time"],
    normalize: (value) =>
      (value as { relative_path: string }[]).filter((r) =>
        r.relative_path.startsWith("differential/")
      ),
    join: (responses) => responses,
  });
  await h.compare("gitaly.InternalGitaly", "WalkRepos", { storage_name: "nope" });
  await h.compare("gitaly.InternalGitaly", "WalkRepos", { storage_name: "" });
});

differentialTest("GetObjectPool", async (h) => {
  const plain = await h.repo("rich", { shared: true });
  await h.compare("gitaly.ObjectPoolService", "GetObjectPool", { repository: plain });
  const member = await h.repo("rich");
  const notAPool = await h.repo("rich");
  for (const side of SIDES) {
    const storage = h.storagePaths[side];
    const poolDir = join(storage, POOL);
    await Deno.mkdir(join(poolDir, ".."), { recursive: true });
    await new Deno.Command("cp", { args: ["-a", h.gitDir(side, plain), poolDir] }).output();
    const alternates = join(h.gitDir(side, member), "objects", "info", "alternates");
    await Deno.mkdir(join(alternates, ".."), { recursive: true });
    await Deno.writeTextFile(alternates, `../../../${POOL}/objects\n`);
    const wrong = join(h.gitDir(side, notAPool), "objects", "info", "alternates");
    await Deno.mkdir(join(wrong, ".."), { recursive: true });
    await Deno.writeTextFile(wrong, `${h.gitDir(side, plain)}/objects\n`);
  }
  const linked = await h.compare("gitaly.ObjectPoolService", "GetObjectPool", {
    repository: member,
  });
  assertEquals(JSON.stringify(linked.reference).includes(POOL), true);
  await h.compare("gitaly.ObjectPoolService", "GetObjectPool", { repository: notAPool });
  await h.compare("gitaly.ObjectPoolService", "GetObjectPool", {
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
  });
  await h.compare("gitaly.ObjectPoolService", "GetObjectPool", {});
  await h.compare("gitaly.ObjectPoolService", "GetObjectPool", {
    repository: { storage_name: "nope", relative_path: "x.git" },
  });
});
