/**
 * RepositoryService's bundle, custom hooks, snapshot and attributes RPCs in
 * process: what the differential tests cannot compare (`--not` on stdin,
 * options git 2.39 does not read there), clients that vanish mid-upload,
 * and snapshots that try to write outside the repository.
 *
 * @module
 */
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import type { CallContext, ClientStreamHandler } from "../../../src/server/rpc.ts";
import { repositoryService } from "../../../src/service/repository/mod.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, runGit } from "../../helpers/handler.ts";

const RS = "gitaly.RepositoryService";
const enc = (...patterns: string[]) => patterns.map((p) => new TextEncoder().encode(p));
const h = await handlerHarness({ bytes: "text" });
const repo = await h.createRepo("b.git", async (git, path) => {
  const work = await Deno.makeTempDir({ prefix: "bundles-work-" });
  await runGit(["init", "-q", "-b", "main", work]);
  for (const name of ["one", "two", "three"]) {
    await Deno.writeTextFile(`${work}/${name}.txt`, `${name}\n`.repeat(20_000));
    await runGit(["add", "-A"], work);
    await runGit(["commit", "-qm", name], work);
  }
  await runGit(["push", "-q", path, "main", "HEAD~1:refs/heads/older"], work);
  await Deno.remove(work, { recursive: true });
  await git("tag", "v1", "main~2");
});
const bundlePath = join(await Deno.makeTempDir({ prefix: "bundles-" }), "all.bundle");
await runGit(["--git-dir", h.repoPath(repo), "bundle", "create", bundlePath, "--all"]);
const bundle = await Deno.readFile(bundlePath);
const service = repositoryService(h.deps);

/** `git bundle list-heads` of the bundle in the responses, sorted. */
async function heads(responses: Record<string, unknown>[]): Promise<string[]> {
  const path = `${bundlePath}.out`;
  const data = responses.map((r) => r.data as string | Uint8Array).filter(Boolean);
  const bytes = data.map((d) => typeof d === "string" ? new TextEncoder().encode(d) : d);
  await Deno.writeFile(
    path,
    new Uint8Array(await new Blob(bytes as Uint8Array<ArrayBuffer>[]).arrayBuffer()),
  );
  return (await runGit(["bundle", "list-heads", path])).split("\n").filter(Boolean).sort();
}

Deno.test("CreateBundleFromRefList: --not negates what follows it, across requests", async () => {
  const result = await h.call(RS, "CreateBundleFromRefList", [
    { repository: repo, patterns: enc("refs/heads/main", "--not") },
    { patterns: enc("refs/heads/older") },
  ]);
  assert(result.ok, JSON.stringify(result));
  const main = await runGit(["--git-dir", h.repoPath(repo), "rev-parse", "main"]);
  assertEquals(await heads(result.responses), [`${main} refs/heads/main`]);
  const path = `${bundlePath}.out`;
  // Only what `older` lacks: the bundle needs `older` as a prerequisite.
  const verify = await runGit(["--git-dir", h.repoPath(repo), "bundle", "verify", path]);
  assert(/requires this ref/.test(verify) || /requires/.test(verify), verify);
});

Deno.test("CreateBundleFromRefList: --not --tags and --all, and options git cannot read", async () => {
  const negated = await h.call(RS, "CreateBundleFromRefList", [
    { repository: repo, patterns: enc("--all", "--not", "--tags") },
  ]);
  assert(negated.ok, JSON.stringify(negated));
  const listed = await heads(negated.responses);
  // The tag is excluded; the branches and HEAD are not (only the tag's history is left out).
  assertEquals(listed.map((line) => line.split(" ")[1]).sort(), [
    "HEAD",
    "refs/heads/main",
    "refs/heads/older",
  ]);
  const bogus = await h.call(RS, "CreateBundleFromRefList", [
    { repository: repo, patterns: enc("main", "--glob=refs/*") },
  ]);
  assertEquals(bogus.ok ? "" : [bogus.codeName, bogus.message], [
    "InvalidArgument",
    "invalid option '--glob=refs/*' in --stdin mode",
  ]);
});

/** A call context whose signal the test aborts, as a vanished client does. */
function callContext(method: string, signal: AbortSignal): CallContext {
  return {
    path: `/${RS}/${method}`,
    metadata: new Metadata(),
    signal,
    peer: "test",
    logFields: {},
  };
}

/** Sends `first` and part of the bundle, then fails like a stream whose client went away. */
async function* vanishing(
  controller: AbortController,
  first: Record<string, unknown>,
): AsyncGenerator<Record<string, unknown>> {
  yield { ...first, data: bundle.slice(0, 64 * 1024) };
  yield { data: bundle.slice(64 * 1024, 128 * 1024) };
  controller.abort(new Error("client went away"));
  throw new Error("stream reset by the client");
}

async function tmpEntries(): Promise<string[]> {
  const dir = join(h.storagePath(), "+gitaly", "tmp");
  return (await Array.fromAsync(Deno.readDir(dir)).catch(() => [])).map((e) => e.name);
}

async function settled(): Promise<void> {
  for (let i = 0; i < 50 && h.deps.git.liveCount() > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const method of ["CreateRepositoryFromBundle", "FetchBundle", "SetCustomHooks"] as const) {
  Deno.test(`${method}: a client gone mid-upload leaves nothing behind`, async () => {
    const target = method === "CreateRepositoryFromBundle"
      ? { storage_name: "default", relative_path: "vanished.git" }
      : await h.createRepo(`${method}.git`);
    const before = await runGit(["--git-dir", h.repoPath(repo), "for-each-ref"]).catch(() => "");
    const controller = new AbortController();
    const handler = service.handlers[method] as ClientStreamHandler<unknown, unknown>;
    const error = await handler.fn(
      vanishing(controller, { repository: target }),
      callContext(method, controller.signal),
    ).then(() => undefined, (err) => err);
    assert(error !== undefined, "the call should fail");
    assert(/stream reset by the client/.test(String(error)), String(error));
    await settled();
    assertEquals(h.deps.git.liveCount(), 0);
    assertEquals(await tmpEntries(), []);
    if (method === "CreateRepositoryFromBundle") {
      const exists = await Deno.stat(h.repoPath(target)).then(() => true, () => false);
      assertEquals(exists, false);
    } else if (method === "FetchBundle") {
      assertEquals(await runGit(["--git-dir", h.repoPath(target), "for-each-ref"]), "");
    } else {
      const hooks = await Deno.stat(join(h.repoPath(target), "custom_hooks")).catch(() => null);
      assertEquals(hooks, null);
      await Deno.stat(join(h.repoPath(target), "custom_hooks.lock")).then(
        () => assert(false, "lock left behind"),
        () => {},
      );
    }
    assert(before.length > 0);
  });
}

/** Serves `archive` on loopback for the duration of `fn`. */
async function serving(archive: Uint8Array<ArrayBuffer>, fn: (url: string) => Promise<void>) {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(archive),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/snapshot.tar`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("CreateRepositoryFromSnapshot: archives with links or escaping names are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "evil-snapshot-" });
  await Deno.mkdir(join(dir, "refs"));
  await Deno.writeTextFile(join(dir, "HEAD"), "ref: refs/heads/main\n");
  await Deno.symlink("/etc", join(dir, "objects"));
  const tar = async (args: string[]) =>
    new Uint8Array((await new Deno.Command("tar", { args, stdout: "piped" }).output()).stdout);
  const withLink = await tar(["-c", "-f", "-", "-C", dir, "HEAD", "refs", "objects"]);
  const escaping = await tar([
    "-c",
    "-f",
    "-",
    "-C",
    dir,
    "--transform=s,^HEAD,../../escaped,",
    "HEAD",
  ]);
  for (const archive of [withLink, escaping]) {
    await serving(archive, async (url) => {
      const target = { storage_name: "default", relative_path: "evil.git" };
      const result = await h.call(RS, "CreateRepositoryFromSnapshot", {
        repository: target,
        http_url: url,
      });
      assertEquals(result.ok ? "" : result.codeName, "InvalidArgument");
      assert(!result.ok && /not allowed/.test(result.message), JSON.stringify(result));
      assertEquals(await Deno.stat(h.repoPath(target)).then(() => true, () => false), false);
    });
  }
  assertEquals(await Deno.stat(join(h.storagePath(), "..", "escaped")).catch(() => null), null);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ApplyGitattributes: a held lock is FailedPrecondition, the file stays", async () => {
  const info = join(h.repoPath(repo), "info");
  await Deno.mkdir(info, { recursive: true });
  await Deno.writeTextFile(join(info, "attributes"), "*.txt text\n");
  await Deno.writeTextFile(join(info, "attributes.lock"), "");
  const result = await h.call(RS, "ApplyGitattributes", {
    repository: repo,
    revision: enc("main")[0],
  });
  assertEquals(result.ok ? "" : result.codeName, "FailedPrecondition");
  assertEquals(await Deno.readTextFile(join(info, "attributes")), "*.txt text\n");
  await Deno.remove(join(info, "attributes.lock"));
  const applied = await h.call(RS, "ApplyGitattributes", {
    repository: repo,
    revision: enc("main")[0],
  });
  assert(applied.ok, JSON.stringify(applied));
  assertEquals(await Deno.stat(join(info, "attributes")).catch(() => null), null);
});

Deno.test("RemoveAll: empties the storage, keeps its directory", async () => {
  const other = await handlerHarness({ bytes: "text" });
  await other.createRepo("a/b.git");
  await other.createRepo("c.git");
  const result = await other.call(RS, "RemoveAll", { storage_name: "default" });
  assert(result.ok, JSON.stringify(result));
  assertEquals(await Array.fromAsync(Deno.readDir(other.storagePath())), []);
  await other.close();
});

Deno.test({
  name: "cleanup",
  fn: async () => {
    await Deno.remove(join(bundlePath, ".."), { recursive: true });
    await h.close();
  },
});
