import { ASK_GIT, parsePackedRefs, readRef } from "../../src/git/ref_files.ts";
import { assertEquals } from "../helpers/assert.ts";
import { runGit } from "../helpers/handler.ts";
import { withTempDir } from "./helpers.ts";

/** `git show-ref --verify`'s object id for `name`, or null. */
async function gitAnswer(gitDir: string, name: string): Promise<string | null> {
  const out = await new Deno.Command("git", {
    args: ["--git-dir", gitDir, "show-ref", "--verify", "--hash", "--", name],
    stdout: "piped",
    stderr: "null",
  }).output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
}

async function repoWithRefs(dir: string): Promise<{ gitDir: string; commit: string }> {
  const gitDir = `${dir}/repo.git`;
  await runGit(["init", "-q", "--bare", gitDir]);
  const tree = await runGit(["--git-dir", gitDir, "mktree"], undefined, "");
  const commit = await runGit(["--git-dir", gitDir, "commit-tree", "-m", "x", tree]);
  const git = (...args: string[]) => runGit(["--git-dir", gitDir, ...args]);
  await git("update-ref", "refs/heads/main", commit);
  await git("update-ref", "refs/heads/feature/one", commit);
  await git("update-ref", "refs/tags/v1", commit);
  await git("symbolic-ref", "refs/heads/alias", "refs/heads/main");
  await git("symbolic-ref", "refs/heads/dangling", "refs/heads/nope");
  await git("symbolic-ref", "refs/heads/outside", "HEAD");
  await git("update-ref", "refs/heads/chain-0", commit);
  for (let i = 1; i <= 6; i++) {
    await git("symbolic-ref", `refs/heads/chain-${i}`, `refs/heads/chain-${i - 1}`);
  }
  return { gitDir, commit };
}

const NAMES = [
  "refs/heads/main",
  "refs/heads/feature/one",
  "refs/heads/feature",
  "refs/heads",
  "refs/tags/v1",
  "refs/heads/alias",
  "refs/heads/dangling",
  "refs/heads/chain-4",
  "refs/heads/chain-5",
  "refs/heads/nope",
  "refs/heads/main/below-a-file",
];

Deno.test("readRef answers as git show-ref --verify, loose and packed, or asks git", async () => {
  await withTempDir(async (dir) => {
    const { gitDir } = await repoWithRefs(dir);
    const check = async () => {
      for (const name of NAMES) {
        const ours = await readRef(gitDir, name);
        const git = await gitAnswer(gitDir, name);
        if (ours !== ASK_GIT) assertEquals([name, ours], [name, git]);
      }
    };
    await check();
    await runGit(["--git-dir", gitDir, "pack-refs", "--all"]);
    await check();
    // Packed, then changed: the cached packed-refs is read again.
    await runGit(["--git-dir", gitDir, "update-ref", "-d", "refs/heads/main"]);
    assertEquals(await readRef(gitDir, "refs/heads/main"), null);
    assertEquals(await readRef(gitDir, "refs/heads/alias"), null);
    await check();
    // What git resolves specially is left to git.
    await runGit(["--git-dir", gitDir, "update-ref", "refs/heads/loose", "refs/heads/feature/one"]);
    for (const name of ["refs/heads/outside", "refs/heads/loose/below", "refs/", "HEAD"]) {
      assertEquals(await readRef(gitDir, name), ASK_GIT, name);
    }
  });
});

Deno.test("readRef: the chain depth, unusual contents and symbolic links ask git", async () => {
  await withTempDir(async (dir) => {
    const { gitDir, commit } = await repoWithRefs(dir);
    assertEquals(await readRef(gitDir, "refs/heads/chain-4"), commit);
    assertEquals(await readRef(gitDir, "refs/heads/chain-5"), ASK_GIT);
    await Deno.writeTextFile(`${gitDir}/refs/heads/garbage`, "not an object id\n");
    assertEquals(await readRef(gitDir, "refs/heads/garbage"), ASK_GIT);
    await Deno.symlink("main", `${gitDir}/refs/heads/link`);
    assertEquals(await readRef(gitDir, "refs/heads/link"), ASK_GIT);
    await Deno.writeTextFile(`${gitDir}/packed-refs`, "# pack-refs with: peeled\nbroken line\n");
    assertEquals(await readRef(gitDir, "refs/heads/only-packed"), ASK_GIT);
    assertEquals(await readRef(gitDir, "refs/heads/main"), commit); // loose wins
  });
});

Deno.test("parsePackedRefs: names to ids, peeled lines and the header skipped", () => {
  const a = "a".repeat(40);
  const b = "b".repeat(64);
  const refs = parsePackedRefs(
    `# pack-refs with: peeled fully-peeled sorted \n${a} refs/tags/v1\n^${a}\n${b} refs/heads/x\n`,
  );
  assertEquals([...refs!], [["refs/tags/v1", a], ["refs/heads/x", b]]);
  assertEquals(parsePackedRefs(`${a}\n`), undefined);
});
