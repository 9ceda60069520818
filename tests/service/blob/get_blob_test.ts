/**
 * GetBlob and GetBlobs handlers: chunking, limits, what is answered for
 * missing objects and other types, tree entries, cancellation.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { Metadata } from "@grpc/grpc-js";
import type { GetBlobRequest } from "../../../src/proto/types.ts";
import { getBlob } from "../../../src/service/blob/get_blob.ts";
import { handlerHarness, repository } from "../../helpers/handler.ts";
import { bytesOf, CONTENT, createBlobFixture, revParse, SUBMODULE, textOf } from "./fixture.ts";

const h = await handlerHarness();
const repo = await createBlobFixture(h);
const BS = "gitaly.BlobService";
const latin1Path = new Uint8Array([
  ...new TextEncoder().encode("files/caf"),
  0xe9,
  0x2e,
  0x74,
  0x78,
  0x74,
]);

function joined(responses: Record<string, unknown>[]): string {
  return responses.map((r) => textOf(r.data)).join("");
}

Deno.test("GetBlob: the first message carries size and oid, data in chunks of at most 128 KiB", async () => {
  const oid = await revParse(h, repo, "main:large.txt");
  const result = await h.call(BS, "GetBlob", { repository: repo, oid, limit: -1 });
  assert(result.ok);
  assertEquals(result.responses[0].oid, oid);
  assertEquals(Number(result.responses[0].size), CONTENT.large.length);
  assert(result.responses.length >= 5, `${result.responses.length} messages`);
  for (const response of result.responses.slice(1)) {
    assertEquals(response.oid, undefined);
    assertEquals(response.size, undefined);
  }
  for (const response of result.responses) assert(bytesOf(response.data).byteLength <= 128 * 1024);
  assertEquals(joined(result.responses), CONTENT.large);
});

Deno.test("GetBlob: limit 0 sends metadata only, a positive limit cuts, a negative one sends all", async () => {
  const oid = await revParse(h, repo, "main:README.md");
  const none = await h.call(BS, "GetBlob", { repository: repo, oid, limit: 0 });
  assertEquals(none, { ok: true, responses: [{ size: CONTENT.readme.length, oid }] });
  const some = await h.call(BS, "GetBlob", { repository: repo, oid, limit: 3 });
  assert(some.ok);
  assertEquals(joined(some.responses), CONTENT.readme.slice(0, 3));
  const all = await h.call(BS, "GetBlob", { repository: repo, oid, limit: -5 });
  assert(all.ok);
  assertEquals(joined(all.responses), CONTENT.readme);
  // A cut-off large blob: the rest is dropped, and the next read is right.
  const large = await revParse(h, repo, "main:large.txt");
  const cut = await h.call(BS, "GetBlob", { repository: repo, oid: large, limit: 10 });
  assert(cut.ok);
  assertEquals(joined(cut.responses), CONTENT.large.slice(0, 10));
  const again = await h.call(BS, "GetBlob", { repository: repo, oid, limit: -1 });
  assert(again.ok);
  assertEquals(joined(again.responses), CONTENT.readme);
});

Deno.test("GetBlob: a missing object or one of another type gets one empty message", async () => {
  const commit = await revParse(h, repo, "main");
  for (const oid of ["0".repeat(40), "nope", "-main", "a\nb", commit, "main^{tree}"]) {
    assertEquals(await h.call(BS, "GetBlob", { repository: repo, oid, limit: -1 }), {
      ok: true,
      responses: [{}],
    }, oid);
  }
  const byPath = await h.call(BS, "GetBlob", {
    repository: repo,
    oid: "main:README.md",
    limit: -1,
  });
  assert(byPath.ok);
  assertEquals(joined(byPath.responses), CONTENT.readme);
});

Deno.test("GetBlob: bad input", async () => {
  const empty = await h.call(BS, "GetBlob", { repository: repo, oid: "" });
  assert(!empty.ok);
  assertEquals([empty.codeName, empty.message], ["InvalidArgument", "empty Oid"]);
  const nul = await h.call(BS, "GetBlob", { repository: repo, oid: "a\0b" });
  assert(!nul.ok);
  assertEquals(nul.codeName, "InvalidArgument");
  const missing = await h.call(BS, "GetBlob", { repository: repository("missing.git"), oid: "x" });
  assert(!missing.ok);
  assertEquals(missing.codeName, "NotFound");
  const escape = await h.call(BS, "GetBlob", {
    repository: { ...repo, git_object_directory: "../../../etc" },
    oid: "main:README.md",
  });
  assert(!escape.ok);
  assertEquals(escape.codeName, "InvalidArgument");
});

Deno.test("GetBlob: a call cancelled mid-blob kills its cat-file process", async () => {
  const oid = await revParse(h, repo, "main:large.txt");
  const controller = new AbortController();
  const ctx = {
    path: "/gitaly.BlobService/GetBlob",
    metadata: new Metadata(),
    signal: controller.signal,
    peer: "test",
    logFields: {},
  };
  let sent = 0;
  const handler = getBlob(h.deps);
  const failure = await handler.fn(
    { repository: repo, oid, limit: -1 } as GetBlobRequest,
    ctx,
    async () => {
      if (++sent === 1) controller.abort(new Error("cancelled"));
      await new Promise((resolve) => setTimeout(resolve, 10));
    },
  ).then(() => undefined, (error) => error);
  assert(failure instanceof Error, "the call fails");
  assert(sent < 5, `${sent} messages sent after the abort`);
  assertEquals(h.deps.catfile.stats().busy, 0);
  // The killed process is reaped; later reads get a fresh one and are right.
  const again = await h.call(BS, "GetBlob", { repository: repo, oid, limit: -1 });
  assert(again.ok);
  assertEquals(joined(again.responses), CONTENT.large);
});

Deno.test("GetBlobs: metadata as Gitaly sends it, content up to the limit", async () => {
  const paths = ["README.md", "lfs", "lfs/", SUBMODULE.path, "nope", "", "./README.md"];
  const result = await h.call(BS, "GetBlobs", {
    repository: repo,
    limit: 4,
    revision_paths: [
      ...paths.map((path) => ({ revision: "main", path: new TextEncoder().encode(path) })),
      { revision: "main", path: latin1Path },
      { revision: "main~1", path: new TextEncoder().encode("README.md") },
    ],
  });
  assert(result.ok);
  const [readme, tree, treeSlash, submodule, nope, root, dotted, latin1, old] = result.responses;
  assertEquals(readme.type, 2); // BLOB
  assertEquals(readme.mode, 0o100644);
  assertEquals(readme.revision, "main");
  assertEquals(textOf(readme.path), "README.md");
  assertEquals(Number(readme.size), CONTENT.readme.length);
  assertEquals(textOf(readme.data), CONTENT.readme.slice(0, 4));
  assertEquals([tree.type, tree.mode, tree.data], [3, 0o40000, undefined]);
  assertEquals(textOf(treeSlash.path), "lfs");
  assertEquals(submodule.is_submodule, true);
  assertEquals([submodule.type, submodule.mode, submodule.oid], [1, 0o160000, SUBMODULE.oid]);
  assertEquals(submodule.size, undefined);
  for (const notFound of [nope, root, dotted]) {
    assertEquals(notFound.oid, undefined);
    assertEquals(notFound.revision, "main");
  }
  assertEquals(bytesOf(latin1.path), latin1Path);
  assertEquals(latin1.type, 2);
  assertEquals(textOf(old.data), CONTENT.old.slice(0, 4));
  assertEquals(result.responses.length, 9);
});

Deno.test("GetBlobs: a large blob continues in data-only messages", async () => {
  const result = await h.call(BS, "GetBlobs", {
    repository: repo,
    limit: -1,
    revision_paths: [{ revision: "main", path: new TextEncoder().encode("large.txt") }],
  });
  assert(result.ok);
  assert(result.responses.length > 1);
  assertEquals(result.responses[1].revision, undefined);
  assertEquals(joined(result.responses), CONTENT.large);
});

Deno.test("GetBlobs: bad input", async () => {
  const cases: [unknown[], string][] = [
    [[], "empty RevisionPaths"],
    [[{ revision: "-main", path: "" }], "revision can't start with '-'"],
    [[{ revision: "main:x", path: "" }], "revision can't contain ':'"],
    [[{ revision: "", path: "" }], "empty revision"],
    [
      [{ revision: "main", path: new TextEncoder().encode("a\0b/c") }],
      "find by revision and path: revision must not contain NUL bytes",
    ],
  ];
  for (const [revision_paths, message] of cases) {
    const result = await h.call(BS, "GetBlobs", { repository: repo, revision_paths });
    assert(!result.ok);
    assertEquals([result.codeName, result.message], ["InvalidArgument", message]);
  }
});

Deno.test("blob handler tests: cleanup", async () => {
  await h.close();
});
