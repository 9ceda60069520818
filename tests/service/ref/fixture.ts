/**
 * The repository RefService handler tests share: a few commits, branches,
 * remote-tracking branches, annotated, lightweight and nested tags, and
 * `many` extra branches (for batching and early stops).
 *
 * @module
 */
import type { Repository } from "../../../src/proto/types.ts";
import { type HandlerHarness, runGit } from "../../helpers/handler.ts";

/** Object ids of the fixture. */
export interface RefFixture {
  repo: Repository;
  oids: Record<string, string>;
}

/** Builds the fixture in `h` (`many` extra branches `refs/heads/many/NNNN`). */
export async function buildRefFixture(h: HandlerHarness, many = 1200): Promise<RefFixture> {
  const oids: Record<string, string> = {};
  const repo = await h.createRepo("refs.git", async (git, path) => {
    const tree = await git("hash-object", "-t", "tree", "-w", "--stdin");
    oids.tree = tree;
    oids.root = await git("commit-tree", tree, "-m", "root");
    oids.second = await git("commit-tree", tree, "-p", oids.root, "-m", "second\n\nwith a body");
    oids.side = await git("commit-tree", tree, "-p", oids.root, "-m", "side");
    const lines = [
      `create refs/heads/main ${oids.second}`,
      `create refs/heads/merged ${oids.root}`,
      `create refs/heads/side ${oids.side}`,
      `create refs/remotes/origin/main ${oids.second}`,
      `create refs/remotes/upstream/side ${oids.side}`,
      `create refs/tags/light ${oids.root}`,
      `create refs/tags/tree ${tree}`,
      ...Array.from(
        { length: many },
        (_, i) => `create refs/heads/many/${String(i).padStart(4, "0")} ${oids.root}`,
      ),
    ];
    await runGit(["update-ref", "--stdin"], path, lines.join("\n") + "\n");
    await git("tag", "-a", "-m", "annotated\n\n", "annotated", oids.second);
    await git("tag", "-a", "-m", "outer", "nested", "annotated");
    oids.annotated = await git("rev-parse", "annotated");
    oids.nested = await git("rev-parse", "nested");
  });
  return { repo, oids };
}
