/**
 * ListBranchNamesContainingCommit and ListTagNamesContainingCommit in
 * process, on one shared repository.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type CallResult, handlerHarness, repository, runGit } from "../../helpers/handler.ts";
import { failed } from "./helpers.ts";

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

const h = await handlerHarness();
const oids: Record<string, string> = {};
const repo = await h.createRepo("shared.git", async (git) => {
  oids.root = await git("commit-tree", "-m", "root", EMPTY_TREE);
  oids.middle = await git("commit-tree", "-m", "middle", "-p", oids.root, EMPTY_TREE);
  oids.tip = await git("commit-tree", "-m", "tip", "-p", oids.middle, EMPTY_TREE);
  oids.side = await git("commit-tree", "-m", "side", EMPTY_TREE);
  await git("update-ref", "refs/heads/main", oids.tip);
  await git("update-ref", "refs/heads/old", oids.middle);
  await git("update-ref", "refs/heads/-dash", oids.root);
  await git("update-ref", "refs/heads/side", oids.side);
  await git("tag", "v1", oids.middle);
  await git("tag", "-a", "-m", "annotated", "v2", oids.tip);
  await git("tag", "-a", "-m", "of a tag", "v2-outer", "v2");
});
// Many long branch names, to fill more than one message.
const long = "x".repeat(200);
await runGit(
  ["update-ref", "--stdin"],
  h.repoPath(repo),
  Array.from({ length: 6000 }, (_, i) => `create refs/heads/many/${long}-${i} ${oids.side}\n`)
    .join(""),
);

const branches = (request: Record<string, unknown>) =>
  h.call("gitaly.RefService", "ListBranchNamesContainingCommit", { repository: repo, ...request });
const tags = (request: Record<string, unknown>) =>
  h.call("gitaly.RefService", "ListTagNamesContainingCommit", { repository: repo, ...request });

function names(result: CallResult, field: string): string[] {
  assert(result.ok, JSON.stringify(result));
  // The harness gives bytes as base64.
  return result.responses.flatMap((r) => (r[field] as string[] | undefined) ?? [])
    .map((name) => new TextDecoder().decode(Uint8Array.from(atob(name), (c) => c.charCodeAt(0))));
}

function failure(result: CallResult) {
  const { code, message } = failed(result);
  return { code, message };
}

Deno.test("ListBranchNamesContainingCommit: names sorted, limit, batches by size", async () => {
  assertEquals(names(await branches({ commit_id: oids.middle }), "branch_names"), [
    "main",
    "old",
  ]);
  assertEquals(names(await branches({ commit_id: oids.root }), "branch_names"), [
    "-dash",
    "main",
    "old",
  ]);
  assertEquals(names(await branches({ commit_id: oids.root, limit: 1 }), "branch_names"), [
    "-dash",
  ]);
  // A negative limit arrives as a uint32 past git's INT_MAX: no limit (Gitaly: Internal).
  assertEquals(
    names(await branches({ commit_id: oids.root, limit: 2 ** 32 - 1 }), "branch_names"),
    ["-dash", "main", "old"],
  );
  const many = await branches({ commit_id: oids.side });
  assert(many.ok);
  // 6,001 names of ~220 bytes: over 1 MiB, so two messages, the first just under 1 MiB.
  assertEquals(many.responses.length, 2);
  assertEquals(names(many, "branch_names").length, 6001);
  assertEquals(names(many, "branch_names").at(-1), "side");
});

Deno.test("ListTagNamesContainingCommit: annotated tags and tags of tags count", async () => {
  assertEquals(names(await tags({ commit_id: oids.middle }), "tag_names"), [
    "v1",
    "v2",
    "v2-outer",
  ]);
  assertEquals(names(await tags({ commit_id: oids.tip }), "tag_names"), ["v2", "v2-outer"]);
  assertEquals(names(await tags({ commit_id: oids.tip, limit: 1 }), "tag_names"), ["v2"]);
  assertEquals(await tags({ commit_id: oids.side }), { ok: true, responses: [] });
});

Deno.test("List*NamesContainingCommit: bad commit ids", async () => {
  for (const call of [branches, tags]) {
    assertEquals(failure(await call({ commit_id: "" })), {
      code: "InvalidArgument",
      message: 'invalid object ID: "", expected length 40, got 0',
    });
    assertEquals(failure(await call({ commit_id: "main" })), {
      code: "InvalidArgument",
      message: 'invalid object ID: "main", expected length 40, got 4',
    });
    assertEquals(failure(await call({ commit_id: "-".repeat(40) })), {
      code: "InvalidArgument",
      message: `invalid object ID: "${"-".repeat(40)}", invalid character '-'`,
    });
    assertEquals(failure(await call({ commit_id: `${"a".repeat(39)}\0` })), {
      code: "InvalidArgument",
      message: `invalid object ID: "${"a".repeat(39)}\\x00", invalid character '\\x00'`,
    });
    // Gitaly: Internal "exit status 129".
    assertEquals(failure(await call({ commit_id: "1".repeat(40) })), {
      code: "NotFound",
      message: `no such commit ${"1".repeat(40)}`,
    });
    assertEquals(failure(await call({ commit_id: EMPTY_TREE })), {
      code: "InvalidArgument",
      message: `object ${EMPTY_TREE} is a tree, not a commit`,
    });
    assertEquals(
      failure(await call({ repository: repository("missing.git"), commit_id: oids.tip })).code,
      "NotFound",
    );
  }
});

Deno.test("List*NamesContainingCommit: close the harness", async () => {
  await h.close();
});
