/**
 * RemoteService UpdateRemoteMirror, ours against the reference Gitaly: each
 * side pushes to its own copy of the same mirror (a bare repository on
 * disk), and the mirrors must end alike.
 *
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { differentialTest, type Side, SIDES } from "./harness.ts";

const RMS = "gitaly.RemoteService";

async function git(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["--git-dir", dir, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

differentialTest("UpdateRemoteMirror", async (h) => {
  const scratch = await Deno.makeTempDir({ prefix: "mirror-" });
  try {
    const repository = await h.repo("rich");
    const mirrors: Record<Side, string> = { ours: "", reference: "" };
    for (const side of SIDES) {
      mirrors[side] = join(scratch, `${side}.git`);
      await git(mirrors[side], "init", "--bare", "-q");
      // The mirror starts with some of our history, a diverged branch and work of its own.
      await git(
        mirrors[side],
        "fetch",
        "-q",
        h.gitDir(side, repository),
        "refs/heads/feature/stale:refs/heads/feature/stale",
        "refs/heads/orphan:refs/heads/mirror-only",
        "refs/heads/feature/merged:refs/heads/merged-gone",
      );
      await git(
        mirrors[side],
        "update-ref",
        "refs/heads/main",
        await git(h.gitDir(side, repository), "rev-parse", "orphan"),
      );
    }
    const request = (extra: Record<string, unknown>) => (side: Side) => [{
      repository,
      remote: { url: `file://${mirrors[side]}` },
      ...extra,
    }];
    const mirrorRefs = async () => {
      const out: Record<string, string> = {};
      for (const side of SIDES) {
        out[side] = await git(mirrors[side], "for-each-ref", "--format=%(objectname) %(refname)");
      }
      return out;
    };
    await h.compare(RMS, "UpdateRemoteMirror", request({ keep_divergent_refs: true }));
    let refs = await mirrorRefs();
    assertEquals(refs.ours, refs.reference);
    await h.compare(RMS, "UpdateRemoteMirror", request({ only_branches_matching: ["feature/*"] }));
    refs = await mirrorRefs();
    assertEquals(refs.ours, refs.reference);
    await h.compare(RMS, "UpdateRemoteMirror", request({}));
    refs = await mirrorRefs();
    assertEquals(refs.ours, refs.reference);
    await h.compare(RMS, "UpdateRemoteMirror", [{ repository }]);
    await h.compare(RMS, "UpdateRemoteMirror", [{ repository, remote: {} }]);
    await h.compare(RMS, "UpdateRemoteMirror", [{ remote: { url: "file:///nope" } }]);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});
