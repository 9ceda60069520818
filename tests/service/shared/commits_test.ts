import { SignatureType } from "../../../src/proto/types.ts";
import {
  readCommit,
  readCommitWithTrailers,
  readTag,
} from "../../../src/service/shared/commits.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness } from "../../helpers/handler.ts";

const decoder = new TextDecoder();

Deno.test("shared commits: readCommit, trailers, readTag with peeled targets", async () => {
  const h = await handlerHarness();
  try {
    const oids: Record<string, string> = {};
    const repo = await h.createRepo("r.git", async (git) => {
      const tree = await git("hash-object", "-t", "tree", "-w", "--stdin");
      oids.commit = await git(
        "commit-tree",
        tree,
        "-m",
        "subject",
        "-m",
        "Signed-off-by: A <a@example.com>",
      );
      await git("update-ref", "refs/heads/main", oids.commit);
      await git("tag", "-a", "-m", "one", "v1", oids.commit);
      await git("tag", "-a", "-m", "two", "v2", "v1");
      await git("tag", "-a", "-m", "tree", "vtree", tree);
      oids.v1 = await git("rev-parse", "v1");
      oids.v2 = await git("rev-parse", "v2");
      oids.vtree = await git("rev-parse", "vtree");
      oids.tree = tree;
    });
    const path = h.repoPath(repo);
    const commit = await readCommit(h.deps, path, "v2");
    assertEquals(commit?.id, oids.commit);
    assertEquals(commit?.trailers, []);
    assertEquals(await readCommit(h.deps, path, "nope"), null);
    assertEquals(await readCommit(h.deps, path, oids.tree), null);
    const withTrailers = await readCommitWithTrailers(h.deps, path, "main");
    assertEquals(withTrailers?.trailers.map((t) => decoder.decode(t.value)), ["A <a@example.com>"]);

    const v2 = await readTag(h.deps, path, oids.v2, undefined);
    assert(v2);
    assertEquals(decoder.decode(v2.name), "v2");
    assertEquals(v2.target_commit?.id, oids.commit, "tag of a tag peels to the commit");
    assertEquals(v2.signature_type, SignatureType.NONE);
    const v1 = await readTag(h.deps, path, oids.v1, new TextEncoder().encode("other"));
    assertEquals(decoder.decode(v1!.name), "other");
    assertEquals(v1!.target_commit?.id, oids.commit);
    const vtree = await readTag(h.deps, path, oids.vtree, undefined);
    assertEquals(vtree?.target_commit, undefined, "a tag of a tree has no target commit");
    assertEquals(await readTag(h.deps, path, oids.commit, undefined), null);
  } finally {
    await h.close();
  }
});
