/**
 * DeleteRefs in process: named references, all but some prefixes, and
 * Gitaly's refusals.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, repository, runGit } from "../../helpers/handler.ts";
import { failed, freshRepos, refsOf, withBytes } from "./helpers.ts";

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

async function setup() {
  const h = await handlerHarness();
  /** A fresh repository with references under several prefixes and two symbolic ones. */
  const fresh = freshRepos(h, async (git) => {
    const a = await git("commit-tree", "-m", "a", EMPTY_TREE);
    for (const ref of ["heads/main", "delete/a", "also-delete/b", "keep/c", "also-keep/d"]) {
      await git("update-ref", `refs/${ref}`, a);
    }
    await git("symbolic-ref", "refs/delete/symbolic-a", "refs/delete/a");
    await git("symbolic-ref", "refs/delete/symbolic-c", "refs/keep/c");
  });
  const del = (request: Record<string, unknown>) =>
    h.call("gitaly.RefService", "DeleteRefs", withBytes(request, ["refs", "except_with_prefix"]));
  const names = async (repo: ReturnType<typeof repository>) => {
    const out = await runGit(["for-each-ref", "--format=%(refname)"], h.repoPath(repo));
    return out.split("\n").filter(Boolean);
  };
  return { h, fresh, del, names };
}

Deno.test("DeleteRefs: named references, symbolic ones themselves", async () => {
  const { h, fresh, del, names } = await setup();
  try {
    const repo = await fresh();
    const result = await del({
      repository: repo,
      refs: ["refs/delete/a", "refs/also-delete/b", "refs/delete/symbolic-c", "refs/heads/nope"],
    });
    assertEquals(result, { ok: true, responses: [{}] });
    // refs/delete/symbolic-a dangles now (for-each-ref skips it); refs/keep/c stays.
    assertEquals(await names(repo), ["refs/also-keep/d", "refs/heads/main", "refs/keep/c"]);
    assertEquals(
      await runGit(["symbolic-ref", "refs/delete/symbolic-a"], h.repoPath(repo)),
      "refs/delete/a",
    );
  } finally {
    await h.close();
  }
});

Deno.test("DeleteRefs: all but the references under some prefixes", async () => {
  const { h, fresh, del, names } = await setup();
  try {
    const repo = await fresh();
    const result = await del({
      repository: repo,
      except_with_prefix: ["refs/keep", "refs/also-keep", "refs/heads/"],
    });
    assertEquals(result, { ok: true, responses: [{}] });
    assertEquals(await names(repo), ["refs/also-keep/d", "refs/heads/main", "refs/keep/c"]);
    // Nothing left to delete is fine too.
    assert((await del({ repository: repo, except_with_prefix: ["refs/"] })).ok);
  } finally {
    await h.close();
  }
});

Deno.test("DeleteRefs: bad requests and names", async () => {
  const { h, fresh, del } = await setup();
  try {
    const repo = await fresh();
    const before = await refsOf(h, repo);
    const invalid = (...refs: string[]) => ({
      code: "InvalidArgument",
      message: "invalid references",
      details: [{ type: "gitaly.DeleteRefsError", value: { invalid_format: { refs } } }],
    });
    const plain = (message: string) => ({ code: "InvalidArgument", message, details: [] });
    const cases: [Record<string, unknown>, unknown][] = [
      [{ repository: repo }, plain("empty ExceptWithPrefix and Refs")],
      [
        { repository: repo, refs: ["refs/heads/x"], except_with_prefix: ["refs/"] },
        plain("ExceptWithPrefix and Refs are mutually exclusive"),
      ],
      [
        { repository: repo, except_with_prefix: ["refs/keep", ""] },
        plain("empty prefix for exclusion"),
      ],
      [{ repository: repo, refs: ["refs/delete/a", ""] }, plain("empty ref")],
      [
        { repository: repo, refs: ["refs invalid-ref-format", "refs/delete/a", "refs/a:b"] },
        invalid("refs invalid-ref-format", "refs/a:b"),
      ],
      [{ repository: repo, refs: ["-refs/heads/x"] }, invalid("-refs/heads/x")],
      [{ repository: repo, refs: ["refs/heads/a\0b"] }, invalid("refs/heads/a\0b")],
      // Gitaly: Internal "unable to prepare: invalid reference format".
      [{ repository: repo, refs: ["refs/heads/a..b"] }, invalid("refs/heads/a..b")],
      [{ repository: repo, refs: ["refs/heads/a.lock"] }, invalid("refs/heads/a.lock")],
      // Gitaly: Internal "unable to prepare: exit status 128".
      [{ repository: repo, refs: ["nope"] }, invalid("nope")],
      // Gitaly deletes HEAD, which breaks the repository.
      [{ repository: repo, refs: ["HEAD", "refs/delete/a"] }, invalid("HEAD")],
      [{ refs: ["refs/delete/a"] }, plain("repository not set")],
    ];
    for (const [request, expected] of cases) {
      assertEquals(failed(await del(request)), expected, JSON.stringify(request));
    }
    assertEquals(
      failed(await del({ repository: repo, refs: ["refs/delete/a", "refs/delete/a"] })),
      {
        code: "InvalidArgument",
        message:
          "unable to prepare: reference has been updated multiple times within a transaction",
        details: [],
      },
    );
    assertEquals(await refsOf(h, repo), before);
    assertEquals(
      failed(await del({ repository: repository("missing.git"), refs: ["refs/delete/a"] })).code,
      "NotFound",
    );
  } finally {
    await h.close();
  }
});

Deno.test("DeleteRefs: a locked reference is Aborted and nothing is deleted", async () => {
  const { h, fresh, del } = await setup();
  try {
    const repo = await fresh();
    const before = await refsOf(h, repo);
    const lock = join(h.repoPath(repo), "refs/keep/c.lock");
    await Deno.writeTextFile(lock, "");
    const expected = {
      code: "Aborted",
      message: "cannot lock references",
      details: [{
        type: "gitaly.DeleteRefsError",
        value: { references_locked: { refs: ["refs/keep/c"] } },
      }],
    };
    assertEquals(
      failed(await del({ repository: repo, refs: ["refs/delete/a", "refs/keep/c"] })),
      expected,
    );
    assertEquals(
      failed(await del({ repository: repo, except_with_prefix: ["refs/heads/"] })),
      expected,
    );
    await Deno.remove(lock);
    assertEquals(await refsOf(h, repo), before);
  } finally {
    await h.close();
  }
});
