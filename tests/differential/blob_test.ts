/**
 * BlobService, ours against the reference Gitaly: every RPC on the `rich`
 * fixture (binary and large blobs, LFS pointers and near-pointers, a
 * submodule, a Latin-1 path) and on bad input. Chunk boundaries differ
 * (Gitaly's chunks are up to 32 KiB, ours up to 128 KiB), so contents are
 * joined per object before comparing. `GetLFSPointers` with an id that
 * names no object is left out: Gitaly 16.7 never answers it (the handler
 * tests cover our `NotFound`).
 *
 * @module
 */
import { join } from "node:path";
import { concatBytes, differentialTest, type Harness, type RepoRef, SIDES } from "./harness.ts";
import { lfsPointer, RICH } from "./fixtures.ts";

const BS = "gitaly.BlobService";

const missing: RepoRef = { storage_name: "default", relative_path: "differential/missing.git" };
const badStorage: RepoRef = { storage_name: "nope", relative_path: "differential/rich.git" };
const badRepositories: [string, RepoRef | undefined][] = [
  ["missing", missing],
  ["unknown storage", badStorage],
  ["empty relative path", { storage_name: "default", relative_path: "" }],
  ["no repository", undefined],
];

type Message = Record<string, unknown>;

/**
 * Joins the messages of a stream of objects, each starting with a message
 * for which `starts` holds and continued by data-only messages.
 */
function joinObjects(starts: (m: Message) => boolean, dataKey = "data") {
  return (messages: Message[]) => {
    const objects: Message[] = [];
    let parts: Uint8Array[] = [];
    const close = () => {
      if (objects.length > 0) objects[objects.length - 1][dataKey] = concatBytes(parts);
      parts = [];
    };
    for (const message of messages) {
      if (starts(message) || objects.length === 0) {
        close();
        objects.push({ ...message });
      }
      parts.push(message[dataKey] as Uint8Array);
    }
    close();
    return objects;
  };
}

/** GetBlobs: an object starts with a message naming its revision. */
const joinGetBlobs = joinObjects((m) => m.revision !== "");

/**
 * ListBlobs/ListAllBlobs: the items of all messages, a blob's chunks joined.
 * Gitaly 16.7 queues chunk items that share its 32 KiB copy buffer, so the
 * content it sends of a blob larger than that is garbled (later bytes
 * overwrite earlier ones): only the length of such content is compared.
 */
const joinBlobItems = (messages: Message[]) =>
  joinObjects((m) => m.oid !== "")(messages.flatMap((m) => m.blobs as Message[])).map((item) => {
    const data = item.data as Uint8Array;
    return data.byteLength > 32 * 1024 ? { ...item, data: { length: data.byteLength } } : item;
  });

const encoder = new TextEncoder();
const oids = {
  readme: "564f5af4a120b74be6bf6aa7a101973d131ce5f7",
  binary: "239b184ec7d42207ad0abcccb87b831182a8e08f",
  large: "d6ab4fa29ed96736f0e47b99d2637318766987d6",
  lfsValid: "a8bd4a75eef86333cb0f4a7ef66e4ea97c1deced",
  lfsTrailing: "356afc3d4777567275066f530e5ed962d5e9975a",
  lfsShortOid: "8c74bd8f1eb0bad99a5abdc97592261a2cc3fa15",
};

async function mainIds(h: Harness, repo: RepoRef) {
  const git = (rev: string) => h.git("ours", repo, ["rev-parse", rev]).then((s) => s.trim());
  return {
    commit: await git("main"),
    tree: await git("main^{tree}"),
    binTree: await git("main:bin"),
  };
}

differentialTest("GetBlob", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const ids = await mainIds(h, repository);
  const get = (oid: string, limit: number) => h.compare(BS, "GetBlob", { repository, oid, limit });
  for (const limit of [-1, 0, 5, 37, 38, 1 << 20, -7]) await get(oids.readme, limit);
  await get(oids.binary, -1);
  await get(oids.large, -1);
  await get(oids.large, 200_000);
  await get("main:README.md", -1);
  await get("main:link-to-readme", -1);
  await get("refs/tags/blob-tag", -1);
  for (const notBlob of [ids.commit, ids.tree, "v1.0.0", "main:vendor/lib"]) await get(notBlob, -1);
  for (const nothing of ["0".repeat(40), "nope", "-main", "a\nb", "main:nope", "ma in"]) {
    await get(nothing, -1);
  }
});

differentialTest("GetBlob: bad input", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  await h.compare(BS, "GetBlob", { repository, oid: "", limit: -1 });
  await h.compare(BS, "GetBlob", { repository, oid: "a\0b", limit: -1 });
  for (const [, bad] of badRepositories) {
    await h.compare(BS, "GetBlob", { repository: bad, oid: oids.readme, limit: -1 });
  }
});

const revisionPath = (revision: string, path: string | Uint8Array) => ({ revision, path });

differentialTest("GetBlobs", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const paths: (string | Uint8Array)[] = [
    "README.md",
    "bin",
    "bin/",
    "bin//",
    "bin/run.sh",
    "bin/blob.bin",
    "link-to-readme",
    RICH.submodulePath,
    "large.bin",
    RICH.latin1FileName,
    "lfs/valid-1.bin",
    "nope",
    "",
    "/",
    "//",
    ".",
    "..",
    "./README.md",
    "/README.md",
    "bin/./run.sh",
    "bin//run.sh",
    "../x",
    "../../x",
    "README.md/x",
    "bin/run.sh/x/y",
    "x\ny/z",
    "x\0y",
  ];
  for (const limit of [-1, 0, 3]) {
    await h.compare(BS, "GetBlobs", {
      repository,
      limit,
      revision_paths: paths.map((p) => revisionPath("main", p)),
    }, { join: joinGetBlobs });
  }
  const revisions = [
    "main~1",
    "v1.0.0",
    "refs/tags/tree-tag",
    "refs/tags/blob-tag",
    "orphan",
    "nope",
  ];
  await h.compare(BS, "GetBlobs", {
    repository,
    limit: -1,
    revision_paths: revisions.flatMap((
      r,
    ) => [revisionPath(r, "README.md"), revisionPath(r, "ORPHAN")]),
  }, { join: joinGetBlobs });
  await h.compare(BS, "GetBlobs", {
    repository,
    limit: 100,
    revision_paths: [revisionPath("main", "large.bin"), revisionPath("main", "README.md")],
  }, { join: joinGetBlobs });
});

differentialTest("GetBlobs: bad input", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const call = (revision_paths: ReturnType<typeof revisionPath>[]) =>
    h.compare(BS, "GetBlobs", { repository, limit: -1, revision_paths }, { join: joinGetBlobs });
  await call([]);
  for (const revision of ["-main", "main:x", "", "ma in", "a\0b", "--all"]) {
    await call([revisionPath("main", "README.md"), revisionPath(revision, "README.md")]);
  }
  await call([revisionPath("main", "x\0y/z")]);
  for (const [, bad] of badRepositories) {
    await h.compare(BS, "GetBlobs", {
      repository: bad,
      revision_paths: [revisionPath("main", "README.md")],
    });
  }
});

differentialTest("ListBlobs", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const ids = await mainIds(h, repository);
  const list = (revisions: string[], more: Record<string, unknown> = {}) =>
    h.compare(BS, "ListBlobs", { repository, revisions, ...more }, { join: joinBlobItems });
  await list(["main"]);
  await list(["main"], { with_paths: true });
  await list(["main"], { limit: 3, with_paths: true });
  await list(["main"], { limit: 2, bytes_limit: 5 });
  await list(["main"], { bytes_limit: -1, with_paths: true });
  await list(["main"], { bytes_limit: 100_000 });
  await list(["main", "--not", "main~1"], { with_paths: true });
  await list(["--all", "--not", "main"], { with_paths: true, bytes_limit: -1 });
  await list(["^main~2", "main"], { with_paths: true });
  await list(["--all"], { limit: 1000 });
  await list(["--branches", "--tags"]);
  await list(["--glob=refs/heads/orphan"], { with_paths: true });
  await list(["main:README.md", oids.binary, ids.tree, ids.binTree], { with_paths: true });
  await list(["refs/tags/blob-tag"], { bytes_limit: -1 });
});

differentialTest("ListBlobs: bad input", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const list = (revisions: string[]) =>
    h.compare(BS, "ListBlobs", { repository, revisions }, { join: joinBlobItems });
  await list([]);
  for (const bad of ["-x", "--foo", "", "ma in", "a\0b", "nope", "0".repeat(40)]) {
    await list(["main", bad]);
  }
  for (const [, bad] of badRepositories) {
    await h.compare(BS, "ListBlobs", { repository: bad, revisions: ["main"] });
  }
});

differentialTest("ListAllBlobs", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const list = (more: Record<string, unknown>, repo: RepoRef = repository) =>
    h.compare(BS, "ListAllBlobs", { repository: repo, ...more }, { join: joinBlobItems });
  await list({});
  await list({ limit: 3 });
  await list({ limit: 2, bytes_limit: 5 });
  await list({ bytes_limit: -1 });
  await list({}, await h.repo("empty", { shared: true }));
  for (const [, bad] of badRepositories) await h.compare(BS, "ListAllBlobs", { repository: bad });
});

differentialTest("GetLFSPointers", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const ids = await mainIds(h, repository);
  const get = (blob_ids: string[]) =>
    h.compare(BS, "GetLFSPointers", { repository, blob_ids }, { join: "lfs_pointers" });
  await get([oids.lfsValid, oids.lfsTrailing, oids.lfsShortOid, oids.readme, oids.large]);
  await get([ids.commit, ids.tree, "main:lfs/valid-2.bin", "refs/tags/blob-tag"]);
  await get([oids.lfsValid, oids.lfsValid]);
  await get([]);
  for (const [, bad] of badRepositories) {
    await h.compare(BS, "GetLFSPointers", { repository: bad, blob_ids: [oids.lfsValid] });
  }
});

differentialTest("ListLFSPointers", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const list = (revisions: string[], limit = 0) =>
    h.compare(BS, "ListLFSPointers", { repository, revisions, limit }, { join: "lfs_pointers" });
  await list(["main"]);
  await list(["main"], 1);
  await list(["main"], -1);
  await list(["--all"]);
  await list(["--all", "--not", "main"]);
  await list(["main", "--not", "--all"]);
  await list(["main~1", "^main~2"]);
  await list(["main:lfs/valid-1.bin", oids.lfsTrailing, oids.readme]);
  await list([]);
  for (const bad of ["-dashed", "--foo", "", "ma in", "a\0b", "nope"]) await list(["main", bad]);
  for (const [, bad] of badRepositories) {
    await h.compare(BS, "ListLFSPointers", { repository: bad, revisions: ["main"] });
  }
});

/** Writes `content` as a loose object into `objects/<dir>` of both copies; returns its id. */
async function writeLooseObject(
  h: Harness,
  repo: RepoRef,
  content: string,
  dir = "",
): Promise<string> {
  const scratch = await Deno.makeTempDir({ prefix: "blob-diff-" });
  try {
    const file = join(scratch, "content");
    await Deno.writeTextFile(file, content);
    const init = new Deno.Command("git", { args: ["init", "--bare", "-q", join(scratch, "r")] });
    if (!(await init.output()).success) throw new Error("git init failed");
    const hash = await new Deno.Command("git", {
      args: ["--git-dir", join(scratch, "r"), "hash-object", "-w", file],
      stdout: "piped",
    }).output();
    const oid = new TextDecoder().decode(hash.stdout).trim();
    const loose = join(scratch, "r", "objects", oid.slice(0, 2), oid.slice(2));
    for (const side of SIDES) {
      const target = join(h.gitDir(side, repo), "objects", dir, oid.slice(0, 2));
      await Deno.mkdir(target, { recursive: true });
      await Deno.copyFile(loose, join(target, oid.slice(2)));
    }
    return oid;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

differentialTest("ListAllLFSPointers", async (h) => {
  const rich = await h.repo("rich", { shared: true });
  const list = (repository: RepoRef | undefined, limit = 0) =>
    h.compare(BS, "ListAllLFSPointers", { repository, limit }, { join: "lfs_pointers" });
  await list(rich);
  await list(rich, 2);
  await list(rich, -1);
  await list(await h.repo("empty", { shared: true }));
  for (const [, bad] of badRepositories) await list(bad);

  // Dangling pointers and the size bound: 199, 200 and 201 bytes.
  const repository = await h.repo("rich");
  const base = lfsPointer("e5", 1);
  for (const size of [199, 200, 201]) {
    await writeLooseObject(h, repository, base + "x".repeat(size - base.length - 1) + "\n");
  }
  await list(repository);
  await h.compare(BS, "ListLFSPointers", { repository, revisions: ["--all"] }, {
    join: "lfs_pointers",
  });
});

differentialTest("ListAllLFSPointers: quarantine", async (h) => {
  const repository = await h.repo("rich");
  const quarantined = { ...repository, git_object_directory: "objects/incoming-123456" };
  for (const side of SIDES) {
    await Deno.mkdir(join(h.gitDir(side, repository), "objects/incoming-123456"));
  }
  const list = () =>
    h.compare(BS, "ListAllLFSPointers", { repository: quarantined }, { join: "lfs_pointers" });
  await list();
  await writeLooseObject(h, repository, lfsPointer("f6", 42), "incoming-123456");
  await writeLooseObject(h, repository, "not a pointer\n", "incoming-123456");
  await list();
  await h.compare(BS, "ListAllBlobs", { repository: quarantined, bytes_limit: -1 }, {
    join: joinBlobItems,
  });
  // With the main object directory as alternate, everything is visible again.
  await h.compare(BS, "ListAllLFSPointers", {
    repository: { ...quarantined, git_alternate_object_directories: ["objects"] },
  }, { join: "lfs_pointers" });
});

differentialTest("GetBlob: non-UTF-8 and binary contents", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  await h.compare(BS, "GetBlob", {
    repository,
    oid: "6f83395d973c448cdb70a7b21f7fc8018797acf6",
    limit: -1,
  });
  await h.compare(BS, "GetBlobs", {
    repository,
    limit: -1,
    revision_paths: [revisionPath("main", encoder.encode("bin/blob.bin"))],
  }, { join: joinGetBlobs });
});
