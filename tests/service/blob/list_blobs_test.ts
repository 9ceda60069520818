/**
 * ListBlobs, ListAllBlobs and the LFS pointer handlers: walks with pseudo
 * revisions, limits, chunked contents, pointer detection, quarantine
 * directories.
 *
 * @module
 */
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { listAllBlobs } from "../../../src/service/blob/list_all_blobs.ts";
import { listBlobs } from "../../../src/service/blob/list_blobs.ts";
import { listLfsPointers } from "../../../src/service/blob/list_lfs_pointers.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, repository, runGit } from "../../helpers/handler.ts";
import { bytesOf, CONTENT, createBlobFixture, revParse, textOf } from "./fixture.ts";

const h = await handlerHarness();
const repo = await createBlobFixture(h);
const BS = "gitaly.BlobService";

type Item = Record<string, unknown>;

/** The items of all messages, each blob's chunks joined into one item. */
function blobItems(responses: Record<string, unknown>[]): Item[] {
  const items: Item[] = [];
  for (const item of responses.flatMap((r) => r.blobs as Item[])) {
    if (item.oid === undefined && items.length > 0) {
      const last = items[items.length - 1];
      last.text = (last.text as string) + textOf(item.data);
    } else {
      items.push({ ...item, text: textOf(item.data) });
    }
  }
  return items;
}

function pointerTexts(responses: Record<string, unknown>[]): string[] {
  return responses.flatMap((r) => r.lfs_pointers as Item[]).map((p) => textOf(p.data));
}

Deno.test("ListBlobs: a walk with paths, limits and contents", async () => {
  const all = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: ["main"],
    with_paths: true,
  });
  assert(all.ok);
  const items = blobItems(all.responses);
  const paths = items.map((i) => textOf(i.path)).sort();
  assertEquals(paths.includes("large.txt") && paths.includes("README.md"), true);
  assertEquals(items.every((i) => i.text === ""), true, "no contents without bytes_limit");
  assertEquals(paths.length, 8); // the blobs of both commits

  const limited = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: ["main"],
    limit: 2,
    bytes_limit: 3,
  });
  assert(limited.ok);
  const two = blobItems(limited.responses);
  assertEquals(two.length, 2);
  assertEquals(two.every((i) => (i.text as string).length <= 3 && i.path === undefined), true);

  const whole = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: ["main"],
    bytes_limit: -1,
    with_paths: true,
  });
  assert(whole.ok);
  const large = blobItems(whole.responses).find((i) => textOf(i.path) === "large.txt")!;
  assertEquals(Number(large.size), CONTENT.large.length);
  assertEquals(large.text, CONTENT.large);
  for (const response of whole.responses) {
    for (const item of response.blobs as Item[]) {
      assert(bytesOf(item.data).byteLength <= 128 * 1024);
    }
  }
});

Deno.test("ListBlobs: --not, --all and blob ids", async () => {
  const onlyNew = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: ["main", "--not", "main~1"],
  });
  assert(onlyNew.ok);
  const readmeOld = await revParse(h, repo, "main~1:README.md");
  assert(!blobItems(onlyNew.responses).some((i) => i.oid === readmeOld));
  const onlyOld = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: ["--all", "--not", "main"],
  });
  assertEquals(onlyOld, { ok: true, responses: [] });
  const blob = await h.call(BS, "ListBlobs", {
    repository: repo,
    revisions: [readmeOld, "main~1^{tree}"],
    bytes_limit: -1,
  });
  assert(blob.ok);
  assertEquals(blobItems(blob.responses).map((i) => i.text), [CONTENT.old]);
});

Deno.test("ListBlobs: bad input", async () => {
  const cases: [string[], string, string][] = [
    [[], "InvalidArgument", "missing revisions"],
    [["-x"], "InvalidArgument", "invalid revision: revision can't start with '-'"],
    [["main", "ma in"], "InvalidArgument", "invalid revision: revision can't contain whitespace"],
    [[""], "InvalidArgument", "invalid revision: empty revision"],
  ];
  for (const [revisions, code, message] of cases) {
    const result = await h.call(BS, "ListBlobs", { repository: repo, revisions });
    assert(!result.ok);
    assertEquals([result.codeName, result.message], [code, message]);
  }
  const unknown = await h.call(BS, "ListBlobs", { repository: repo, revisions: ["nope"] });
  assert(!unknown.ok);
  assertEquals(unknown.codeName, "Internal");
  assert(
    unknown.message.startsWith(
      'processing blobs: rev-list pipeline command: exit status 128, stderr: "fatal: ambiguous argument',
    ),
    unknown.message,
  );
});

Deno.test("ListAllBlobs: every blob, with limits", async () => {
  const all = await h.call(BS, "ListAllBlobs", { repository: repo });
  assert(all.ok);
  assertEquals(blobItems(all.responses).length, 8);
  const some = await h.call(BS, "ListAllBlobs", { repository: repo, limit: 3, bytes_limit: -1 });
  assert(some.ok);
  const items = blobItems(some.responses);
  assertEquals(items.length, 3);
  assertEquals(items.every((i) => (i.text as string).length === Number(i.size)), true);
  const missing = await h.call(BS, "ListAllBlobs", { repository: repository("missing.git") });
  assert(!missing.ok);
  assertEquals(missing.codeName, "NotFound");
});

Deno.test("LFS pointers: Gitaly's detection (whole lines, LF only, size bound)", async () => {
  const listed = await h.call(BS, "ListLFSPointers", { repository: repo, revisions: ["main"] });
  assert(listed.ok);
  assertEquals(pointerTexts(listed.responses).sort(), [CONTENT.pointer, CONTENT.trailing].sort());
  const all = await h.call(BS, "ListAllLFSPointers", { repository: repo });
  assert(all.ok);
  assertEquals(pointerTexts(all.responses).sort(), [CONTENT.pointer, CONTENT.trailing].sort());
  const one = await h.call(BS, "ListAllLFSPointers", { repository: repo, limit: 1 });
  assert(one.ok);
  assertEquals(pointerTexts(one.responses).length, 1);
  const pointer = await revParse(h, repo, "main:lfs/pointer.bin");
  const pointerMessage = (all.responses[0].lfs_pointers as Item[]).find((p) => p.oid === pointer)!;
  assertEquals(Number(pointerMessage.size), CONTENT.pointer.length);
});

Deno.test("GetLFSPointers: pointers among the ids, other objects skipped, missing ones NotFound", async () => {
  const ids = await Promise.all(
    ["main:lfs/pointer.bin", "main:lfs/short-oid.bin", "main", "main:large.txt"].map((rev) =>
      revParse(h, repo, rev)
    ),
  );
  const found = await h.call(BS, "GetLFSPointers", { repository: repo, blob_ids: ids });
  assert(found.ok);
  assertEquals(pointerTexts(found.responses), [CONTENT.pointer]);
  const missing = await h.call(BS, "GetLFSPointers", {
    repository: repo,
    blob_ids: [ids[0], "0".repeat(40)],
  });
  assert(!missing.ok);
  assertEquals(missing.codeName, "NotFound");
  const empty = await h.call(BS, "GetLFSPointers", { repository: repo, blob_ids: [] });
  assert(!empty.ok);
  assertEquals([empty.codeName, empty.message], ["InvalidArgument", "empty BlobIds"]);
});

Deno.test("ListAllLFSPointers: a quarantine directory lists only quarantined objects", async () => {
  const path = h.repoPath(repo);
  const quarantine = "objects/incoming-123456";
  await Deno.mkdir(join(path, quarantine));
  try {
    const quarantined = { ...repo, git_object_directory: quarantine };
    const none = await h.call(BS, "ListAllLFSPointers", { repository: quarantined });
    assertEquals(none, { ok: true, responses: [] });
    const text = `version https://git-lfs.github.com/spec/v1\noid sha256:${
      "12".repeat(32)
    }\nsize 1\n`;
    const child = new Deno.Command("git", {
      args: ["--git-dir", path, "hash-object", "-w", "--stdin"],
      env: { GIT_OBJECT_DIRECTORY: join(path, quarantine) },
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const oid = new TextDecoder().decode((await child.output()).stdout).trim();
    const one = await h.call(BS, "ListAllLFSPointers", { repository: quarantined });
    assert(one.ok);
    assertEquals(pointerTexts(one.responses), [text]);
    assertEquals((one.responses[0].lfs_pointers as Item[])[0].oid, oid);
    // The quarantined object is invisible without the quarantine directory.
    const outside = await h.call(BS, "GetLFSPointers", { repository: repo, blob_ids: [oid] });
    assert(!outside.ok);
    // With the main object directory as an alternate, both are seen.
    const both = await h.call(BS, "ListAllLFSPointers", {
      repository: { ...quarantined, git_alternate_object_directories: ["objects"] },
    });
    assert(both.ok);
    assertEquals(pointerTexts(both.responses).length, 3);
    const escape = await h.call(BS, "ListAllLFSPointers", {
      repository: { ...repo, git_alternate_object_directories: ["../../../elsewhere"] },
    });
    assert(!escape.ok);
    assertEquals(escape.codeName, "InvalidArgument");
  } finally {
    await Deno.remove(join(path, quarantine), { recursive: true });
  }
  await runGit(["fsck", "--no-dangling"], path);
});

Deno.test("list RPCs: a call cancelled at any point leaves no git process behind", async () => {
  const calls: [string, (deps: typeof h.deps) => { fn: unknown }, Record<string, unknown>][] = [
    ["ListAllBlobs", listAllBlobs, { repository: repo, bytes_limit: -1 }],
    ["ListLFSPointers", listLfsPointers, { repository: repo, revisions: ["--all"] }],
    ["ListBlobs", listBlobs, { repository: repo, revisions: ["main"], bytes_limit: -1 }],
  ];
  for (const [name, make, request] of calls) {
    const ctx = {
      path: `/gitaly.BlobService/${name}`,
      metadata: new Metadata(),
      peer: "test",
      logFields: {},
    };
    const fn = make(h.deps).fn as (
      req: unknown,
      ctx: unknown,
      send: (r: unknown) => Promise<void>,
    ) => Promise<void>;
    for (const delay of [0, 2, 5, 10]) {
      const controller = new AbortController();
      const call = fn(request, { ...ctx, signal: controller.signal }, () => Promise.resolve());
      setTimeout(() => controller.abort(new Error("cancelled")), delay);
      await call.catch(() => {});
    }
    assertEquals(h.deps.catfile.stats().busy, 0, name);
    // Killed processes are reaped shortly; only cached cat-file processes stay.
    for (let i = 0; i < 50 && h.deps.git.liveCount() > h.deps.catfile.stats().idle; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(h.deps.git.liveCount(), h.deps.catfile.stats().idle, name);
  }
});

Deno.test("blob list handler tests: cleanup", async () => {
  await h.close();
});
