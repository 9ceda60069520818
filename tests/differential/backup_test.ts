/**
 * Server-side backups (BackupRepository, RestoreRepository), ours against
 * the reference Gitaly, each with a `[backup]` sink of its own: the files
 * each side writes (names, refs files, manifests, pointers, bundle heads),
 * backups of one side restored by the other, increments, and the errors.
 *
 * The reference takes its sink as a plain path: Gitaly 16.7 treats a
 * `file://` URL as a relative directory named `file:` below its working
 * directory; ours takes the `file://` URL.
 *
 * @module
 */
import { join, relative } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { fixtureGit } from "./fixtures.ts";
import {
  configureServerToml,
  differentialTest,
  type Harness,
  type RepoRef,
  type Side,
  SIDES,
} from "./harness.ts";

const RS = "gitaly.RepositoryService";
const decoder = new TextDecoder();
let sinkRoot = "";
let fresh = 0;

configureServerToml((side, dir) => {
  sinkRoot = dir;
  const path = join(dir, `sink-${side}`);
  return `[backup]\ngo_cloud_url = ${JSON.stringify(side === "ours" ? `file://${path}` : path)}\n`;
});

function sink(side: Side): string {
  return join(sinkRoot, `sink-${side}`);
}

function freshRepo(): RepoRef {
  return { storage_name: "default", relative_path: `differential/restored-${++fresh}.git` };
}

function vanity(name: string): RepoRef {
  return { storage_name: "default", relative_path: `vanity/${name}.git` };
}

/** Every file below `dir` (relative paths, sorted) with what identifies it. */
async function sinkTree(dir: string, under: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(path: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(path));
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory) await walk(full);
      else out[relative(dir, full)] = await describe(full);
    }
  }
  for (const u of under) await walk(join(dir, u));
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function describe(path: string): Promise<string> {
  if (path.endsWith(".bundle")) {
    const out = await new Deno.Command("/usr/bin/git", {
      args: ["bundle", "list-heads", path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return out.success ? decoder.decode(out.stdout) : "not a bundle";
  }
  if (path.endsWith(".tar")) {
    const out = await new Deno.Command("tar", { args: ["-tvf", path], stdout: "piped" }).output();
    // names and modes
    return decoder.decode(out.stdout).split("\n").filter(Boolean)
      .map((l) => `${l.split(/\s+/)[0]} ${l.split(/\s+/).slice(5).join(" ")}`).join("\n");
  }
  return await Deno.readTextFile(path);
}

async function compareSinks(under: string[]): Promise<Record<string, string>> {
  const [ours, reference] = await Promise.all(SIDES.map((s) => sinkTree(sink(s), under)));
  assertEquals(ours, reference);
  return ours;
}

async function addHooks(h: Harness, repo: RepoRef): Promise<void> {
  for (const side of SIDES) {
    const dir = join(h.gitDir(side, repo), "custom_hooks");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "pre-receive"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  }
}

/** The same new commit on `branch` on both sides (fixed dates, so the same id). */
async function commitOnBoth(h: Harness, repo: RepoRef, branch: string, message: string) {
  const env = {
    GIT_AUTHOR_NAME: "A",
    GIT_AUTHOR_EMAIL: "a@example.com",
    GIT_AUTHOR_DATE: "1700000000 +0000",
    GIT_COMMITTER_NAME: "A",
    GIT_COMMITTER_EMAIL: "a@example.com",
    GIT_COMMITTER_DATE: "1700000000 +0000",
  };
  for (const side of SIDES) {
    const gitDir = h.gitDir(side, repo);
    const parent = await fixtureGit(gitDir, ["rev-parse", "HEAD"]);
    const tree = await fixtureGit(gitDir, ["rev-parse", "HEAD^{tree}"]);
    const commit = await fixtureGit(gitDir, ["commit-tree", "-p", parent, "-m", message, tree], {
      env,
    });
    await fixtureGit(gitDir, ["update-ref", branch, commit]);
  }
}

function swapDirs(a: string, b: string): void {
  const tmp = `${a}.swap`;
  Deno.renameSync(a, tmp);
  Deno.renameSync(b, a);
  Deno.renameSync(tmp, b);
}

differentialTest("BackupRepository: a full backup writes the same files", async (h) => {
  const repository = await h.repo("rich");
  await addHooks(h, repository);
  const v = vanity("full");
  await h.compare(RS, "BackupRepository", {
    repository,
    vanity_repository: v,
    backup_id: "b1",
  });
  const tree = await compareSinks(["vanity/full", "manifests/default/vanity/full.git"]);
  assertEquals(Object.keys(tree), [
    "manifests/default/vanity/full.git/b1.toml",
    "vanity/full/LATEST",
    "vanity/full/b1/001.bundle",
    "vanity/full/b1/001.custom_hooks.tar",
    "vanity/full/b1/001.refs",
    "vanity/full/b1/LATEST",
  ]);
});

differentialTest("BackupRepository: an empty repository has refs but no bundle", async (h) => {
  const repository = await h.repo("empty");
  await h.compare(RS, "BackupRepository", {
    repository,
    vanity_repository: vanity("empty"),
    backup_id: "e1",
  });
  await compareSinks(["vanity/empty", "manifests/default/vanity/empty.git"]);
  // And restores as an empty repository.
  const target = freshRepo();
  await h.compare(RS, "RestoreRepository", {
    repository: target,
    vanity_repository: vanity("empty"),
    backup_id: "e1",
  });
  await h.compareRefs(target);
});

differentialTest("backups restore across servers: ours by the reference and back", async (h) => {
  const repository = await h.repo("rich");
  await addHooks(h, repository);
  const v = vanity("cross");
  await h.compare(RS, "BackupRepository", { repository, vanity_repository: v, backup_id: "c1" });
  // Each side now restores what the other side wrote.
  swapDirs(join(sink("ours"), "vanity/cross"), join(sink("reference"), "vanity/cross"));
  swapDirs(
    join(sink("ours"), "manifests/default/vanity/cross.git"),
    join(sink("reference"), "manifests/default/vanity/cross.git"),
  );
  const target = freshRepo();
  await h.compare(RS, "RestoreRepository", {
    repository: target,
    vanity_repository: v,
    backup_id: "c1",
  });
  const restored = await h.compareRefs(target);
  assertEquals(restored, (await h.refs(repository)).ours);
  for (const side of SIDES) {
    const hook = join(h.gitDir(side, target), "custom_hooks", "pre-receive");
    assertEquals((await Deno.stat(hook)).mode! & 0o777, 0o755);
  }
  // The latest backup (no id) restores the same.
  const latest = freshRepo();
  await h.compare(RS, "RestoreRepository", { repository: latest, vanity_repository: v });
  assertEquals(await h.compareRefs(latest), restored);
});

differentialTest(
  "incremental backups: only what is new, then skipped, then restored",
  async (h) => {
    const repository = await h.repo("history");
    const v = vanity("inc");
    const request = (backup_id: string, incremental = true) => ({
      repository,
      vanity_repository: v,
      backup_id,
      incremental,
    });
    // The first incremental backup without a previous one is a full backup.
    await h.compare(RS, "BackupRepository", request("i1"));
    await commitOnBoth(h, repository, "refs/heads/next", "next");
    await h.compare(RS, "BackupRepository", request("i2"));
    // Nothing new: skipped, with the refs file of the attempt left behind as Gitaly leaves it.
    await h.compare(RS, "BackupRepository", request("i3"));
    await commitOnBoth(h, repository, "refs/heads/next", "after");
    await h.compare(RS, "BackupRepository", request("i4"));
    await compareSinks(["vanity/inc", "manifests/default/vanity/inc.git"]);
    for (const id of ["i1", "i2", "i4"]) {
      const target = freshRepo();
      await h.compare(RS, "RestoreRepository", {
        repository: target,
        vanity_repository: v,
        backup_id: id,
      });
      await h.compareRefs(target);
    }
  },
);

differentialTest("BackupRepository: bad requests", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const missing = { storage_name: "default", relative_path: "differential/missing.git" };
  await h.compare(RS, "BackupRepository", { repository, vanity_repository: vanity("bad") });
  await h.compare(RS, "BackupRepository", { repository, backup_id: "x" });
  await h.compare(RS, "BackupRepository", {
    repository: missing,
    vanity_repository: vanity("bad"),
    backup_id: "x",
  });
  await h.compare(RS, "BackupRepository", {
    repository: { storage_name: "nope", relative_path: "a.git" },
    vanity_repository: vanity("bad"),
    backup_id: "x",
  });
  await h.compare(RS, "BackupRepository", {
    repository,
    vanity_repository: { storage_name: "default", relative_path: "" },
    backup_id: "x",
  });
  await h.compare(RS, "BackupRepository", {
    repository,
    vanity_repository: vanity("bad"),
    backup_id: "x",
    incremental: true,
  });
});

differentialTest("RestoreRepository: backups that do not exist", async (h) => {
  const target = await h.repo("rich");
  const before = await h.compareRefs(target);
  await h.compare(RS, "RestoreRepository", {
    repository: target,
    vanity_repository: vanity("never"),
    backup_id: "nope",
  });
  // Ours looks the backup up first and leaves the repository as it was
  // (the reference removes it before it looks).
  const after = await h.git("ours", target, ["for-each-ref", "--format=%(objectname) %(refname)"]);
  assertEquals(
    after.split("\n").length,
    Object.keys(before).length - 1,
  );
  const other = freshRepo();
  // No backup id: the latest, which falls back to the legacy layout's paths.
  await h.compare(RS, "RestoreRepository", {
    repository: other,
    vanity_repository: vanity("never"),
  });
  await h.compare(RS, "RestoreRepository", {
    repository: other,
    vanity_repository: vanity("never"),
    always_create: true,
  });
  await h.compareRefs(other);
  await h.compare(RS, "RestoreRepository", { repository: freshRepo(), backup_id: "x" });
  await h.compare(RS, "RestoreRepository", {
    repository: { storage_name: "nope", relative_path: "a.git" },
    vanity_repository: vanity("never"),
    backup_id: "x",
  });
});

differentialTest("BackupRepository: a sink that cannot be written", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  // A file where the backup's directory must go.
  await Deno.mkdir(join(sink("ours"), "vanity"), { recursive: true });
  await Deno.writeTextFile(join(sink("ours"), "vanity", "blocked"), "");
  const result = await h.callSide("ours", RS, "BackupRepository", {
    repository,
    vanity_repository: vanity("blocked"),
    backup_id: "x",
  });
  assertEquals(result.ok ? "ok" : result.codeName, "Internal");
  assertEquals(
    await sinkTree(sink("ours"), ["manifests/default/vanity/blocked.git"]),
    {},
  );
  // The server is still up.
  await h.compare(RS, "RepositoryExists", { repository });
});

/** Runs `main.ts backup ACTION` with `lines` on stdin; returns its exit code and stderr. */
async function backupCli(action: string, args: string[], lines: object[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../main.ts", import.meta.url).pathname,
      "backup",
      action,
      ...args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n")));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stderr: decoder.decode(out.stderr) };
}

differentialTest(
  "backup CLI: its backups restore on the reference, the reference's restore by it",
  async (h) => {
    const repository = await h.repo("rich");
    await addHooks(h, repository);
    const refsOf = (side: Side, repo: RepoRef) =>
      h.git(side, repo, ["for-each-ref", "--format=%(objectname) %(refname)"]);
    const source = await refsOf("ours", repository);
    const path = sink("reference");
    const created = await backupCli("create", [
      "--server",
      h.addresses.ours,
      "--path",
      path,
      "--id",
      "cli1",
    ], [{ storage_name: "default", relative_path: repository.relative_path }]);
    assertEquals(created.code, 0, created.stderr);
    const target = freshRepo();
    const restored = await h.callSide("reference", RS, "RestoreRepository", {
      repository: target,
      vanity_repository: repository,
      backup_id: "cli1",
    });
    assertEquals(restored.ok, true);
    assertEquals(await refsOf("reference", target), source);
    // The other way: the reference backs up, the CLI restores into ours.
    const named = { storage_name: "default", relative_path: "differential/cli-restored.git" };
    const backedUp = await h.callSide("reference", RS, "BackupRepository", {
      repository,
      vanity_repository: named,
      backup_id: "r1",
    });
    assertEquals(backedUp.ok, true);
    const back = await backupCli("restore", ["--server", h.addresses.ours, "--path", path], [
      named,
    ]);
    assertEquals(back.code, 0, back.stderr);
    assertEquals(await refsOf("ours", named), source);
    const hook = join(h.gitDir("ours", named), "custom_hooks", "pre-receive");
    assertEquals((await Deno.stat(hook)).isFile, true);
    // A repository that does not exist is skipped, and said so in the summary.
    const skipped = await backupCli("create", ["--server", h.addresses.ours, "--path", path], [
      { storage_name: "default", relative_path: "differential/none.git" },
    ]);
    assertEquals(skipped.code, 0, skipped.stderr);
    assertEquals(/1 repositories: 0 ok, 1 skipped, 0 failed/.test(skipped.stderr), true);
  },
);
