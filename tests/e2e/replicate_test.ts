/**
 * Server-to-server RPCs against running servers: ReplicateRepository and
 * CreateFork between two storages of one server and between two servers
 * (with different tokens, through `gitaly-servers` and gitaly-ssh),
 * FetchSourceBranch, CreateRepositoryFromURL (file:// and smart HTTP),
 * FetchRemote and RemoteService's questions about URLs.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { encodeGitalyServers } from "../../src/service/remote/gitaly_servers.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { createRepo, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { TestClient } from "../helpers/grpc.ts";
import { startHttpGitServer } from "../helpers/http_backend.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const REPO = "/gitaly.RepositoryService";

interface Cluster {
  /** Server A: storage "a1", token "token-a". */
  a: TestServer;
  /** Server B: storages "b1" and "b2", token "token-b". */
  b: TestServer;
  /** Client of B. */
  client: TestClient;
  /** Call options for B with `gitaly-servers` naming A's storage. */
  call: { token: string; metadata: Record<string, string> };
}

async function withCluster(fn: (cluster: Cluster) => Promise<void>): Promise<void> {
  const [a, b] = await Promise.all([
    startTestServer({ token: "token-a", storages: ["a1"] }),
    startTestServer({ token: "token-b", storages: ["b1", "b2"] }),
  ]);
  const client = new TestClient(b.unixAddress);
  const servers = encodeGitalyServers({
    a1: { address: `tcp://${a.tcpAddress}`, token: "token-a" },
  });
  try {
    await fn({ a, b, client, call: { token: "token-b", metadata: { "gitaly-servers": servers } } });
  } finally {
    client.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}

/** A source repository with branches, a tag, a custom HEAD, config, attributes and a custom hook. */
async function makeSource(path: string): Promise<void> {
  await createRepo(path, { commits: 3 });
  await gitOk(["--git-dir", path, "branch", "feature", "HEAD~1"]);
  await gitOk(["--git-dir", path, "tag", "v1.0", "HEAD~2"]);
  await gitOk(["--git-dir", path, "symbolic-ref", "HEAD", "refs/heads/feature"]);
  await gitOk(["--git-dir", path, "config", "gitlab.replicated", "yes"]);
  await Deno.mkdir(join(path, "info"), { recursive: true });
  await Deno.writeTextFile(join(path, "info", "attributes"), "*.bin binary\n");
  await Deno.mkdir(join(path, "custom_hooks"), { recursive: true });
  await Deno.writeTextFile(join(path, "custom_hooks", "pre-receive"), "#!/bin/sh\nexit 0\n", {
    mode: 0o755,
  });
}

/** Asserts `target` is a replica of `source`. */
async function assertReplica(source: string, target: string): Promise<void> {
  assertEquals(await listRefs(target), await listRefs(source));
  assertEquals(await gitOk(["--git-dir", target, "config", "gitlab.replicated"]), "yes");
  assertEquals(await Deno.readTextFile(join(target, "info", "attributes")), "*.bin binary\n");
  const hook = await Deno.stat(join(target, "custom_hooks", "pre-receive"));
  assert(((hook.mode ?? 0) & 0o100) !== 0, "custom hook is executable");
  await gitOk(["--git-dir", target, "fsck", "--no-progress"]);
}

async function codeOf(promise: Promise<unknown>): Promise<[number, string]> {
  try {
    await promise;
    return [grpc.status.OK, ""];
  } catch (err) {
    return [(err as grpc.ServiceError).code, (err as grpc.ServiceError).details];
  }
}

/** What a storage holds: repositories at the top and leftovers in its temp dir. */
async function storageEntries(storage: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(storage)) {
    if (entry.name !== "+gitaly") names.push(entry.name);
  }
  try {
    for await (const entry of Deno.readDir(join(storage, "+gitaly", "tmp"))) {
      names.push(`+gitaly/tmp/${entry.name}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

Deno.test("ReplicateRepository: between storages of one server and between two servers", async (t) => {
  await withCluster(async ({ a, b, client, call }) => {
    const localSource = join(b.storagePaths.b1, "src.git");
    const remoteSource = join(a.storagePaths.a1, "src.git");
    await makeSource(localSource);
    await makeSource(remoteSource);

    for (
      const [label, storage, sourcePath] of [["same server", "b1", localSource], [
        "other server",
        "a1",
        remoteSource,
      ]]
    ) {
      await t.step(`${label}: creates the replica`, async () => {
        const target = `replica-${storage}.git`;
        await client.unary(`${REPO}/ReplicateRepository`, {
          repository: { storage_name: "b2", relative_path: target },
          source: { storage_name: storage, relative_path: "src.git" },
        }, call);
        await assertReplica(sourcePath, join(b.storagePaths.b2, target));
      });

      await t.step(`${label}: a second run follows changes (prune, new refs, HEAD)`, async () => {
        const target = `replica-${storage}.git`;
        await gitOk(["--git-dir", sourcePath, "branch", "-D", "feature"]);
        await gitOk(["--git-dir", sourcePath, "branch", "later", "main"]);
        await gitOk(["--git-dir", sourcePath, "symbolic-ref", "HEAD", "refs/heads/later"]);
        await client.unary(`${REPO}/ReplicateRepository`, {
          repository: { storage_name: "b2", relative_path: target },
          source: { storage_name: storage, relative_path: "src.git" },
        }, call);
        await assertReplica(sourcePath, join(b.storagePaths.b2, target));
      });
    }

    await t.step("a missing source is NotFound and leaves nothing behind", async () => {
      const before = await storageEntries(b.storagePaths.b2);
      for (const storage of ["b1", "a1"]) {
        const [code, message] = await codeOf(client.unary(`${REPO}/ReplicateRepository`, {
          repository: { storage_name: "b2", relative_path: "never.git" },
          source: { storage_name: storage, relative_path: "missing.git" },
        }, call));
        assertEquals([code, message], [grpc.status.NOT_FOUND, "invalid source repository"]);
      }
      assertEquals(await storageEntries(b.storagePaths.b2), before);
    });

    await t.step("validation", async () => {
      const [same] = await codeOf(client.unary(`${REPO}/ReplicateRepository`, {
        repository: { storage_name: "b2", relative_path: "x.git" },
        source: { storage_name: "b2", relative_path: "y.git" },
      }, call));
      assertEquals(same, grpc.status.INVALID_ARGUMENT);
      const [noServers, message] = await codeOf(client.unary(`${REPO}/ReplicateRepository`, {
        repository: { storage_name: "b2", relative_path: "x.git" },
        source: { storage_name: "a1", relative_path: "src.git" },
      }, { token: "token-b" }));
      assertEquals(noServers, grpc.status.INTERNAL);
      assertMatch(message, /gitaly-servers/);
    });
  });
});

Deno.test("CreateFork and FetchSourceBranch across storages and servers", async (t) => {
  await withCluster(async ({ a, b, client, call }) => {
    await makeSource(join(b.storagePaths.b1, "src.git"));
    await makeSource(join(a.storagePaths.a1, "src.git"));

    for (const storage of ["b1", "a1"]) {
      const sourcePath = join(storage === "b1" ? b.storagePaths.b1 : a.storagePaths.a1, "src.git");
      await t.step(`fork from ${storage}`, async () => {
        await client.unary(`${REPO}/CreateFork`, {
          repository: { storage_name: "b2", relative_path: `fork-${storage}.git` },
          source_repository: { storage_name: storage, relative_path: "src.git" },
        }, call);
        const fork = join(b.storagePaths.b2, `fork-${storage}.git`);
        assertEquals(await listRefs(fork), await listRefs(sourcePath));
        assertEquals(await gitOk(["--git-dir", fork, "remote"]), "", "origin removed");
      });

      await t.step(`fork of one branch from ${storage}`, async () => {
        await client.unary(`${REPO}/CreateFork`, {
          repository: { storage_name: "b2", relative_path: `fork-main-${storage}.git` },
          source_repository: { storage_name: storage, relative_path: "src.git" },
          revision: new TextEncoder().encode("refs/heads/main"),
        }, call);
        const fork = join(b.storagePaths.b2, `fork-main-${storage}.git`);
        assertEquals(Object.keys(await listRefs(fork)), ["refs/heads/main"]);
        assertEquals(await gitOk(["--git-dir", fork, "symbolic-ref", "HEAD"]), "refs/heads/main");
      });

      await t.step(`fetch a source branch from ${storage}`, async () => {
        const target = `fork-main-${storage}.git`;
        const fetch = (branch: string) =>
          client.unary<{ result: boolean }>(`${REPO}/FetchSourceBranch`, {
            repository: { storage_name: "b2", relative_path: target },
            source_repository: { storage_name: storage, relative_path: "src.git" },
            source_branch: new TextEncoder().encode(branch),
            target_ref: new TextEncoder().encode("refs/merge-requests/1/head"),
          }, call);
        assertEquals((await fetch("feature")).result, true);
        const refs = await listRefs(join(b.storagePaths.b2, target));
        assertEquals(
          refs["refs/merge-requests/1/head"],
          (await listRefs(sourcePath))["refs/heads/feature"],
        );
        assertEquals((await fetch("no-such-branch")).result, false);
      });
    }

    await t.step("a fork that exists already is AlreadyExists", async () => {
      const [code] = await codeOf(client.unary(`${REPO}/CreateFork`, {
        repository: { storage_name: "b2", relative_path: "fork-b1.git" },
        source_repository: { storage_name: "b1", relative_path: "src.git" },
      }, call));
      assertEquals(code, grpc.status.ALREADY_EXISTS);
    });

    await t.step("a fork of a missing repository fails and leaves nothing behind", async () => {
      const before = await storageEntries(b.storagePaths.b2);
      for (const storage of ["b1", "a1"]) {
        const [code] = await codeOf(client.unary(`${REPO}/CreateFork`, {
          repository: { storage_name: "b2", relative_path: "nothing.git" },
          source_repository: { storage_name: storage, relative_path: "missing.git" },
        }, call));
        assert(code !== grpc.status.OK, "fork of a missing repository fails");
      }
      assertEquals(await storageEntries(b.storagePaths.b2), before);
    });
  });
});

Deno.test("CreateRepositoryFromURL, FetchRemote and RemoteService with file and HTTP URLs", async (t) => {
  const server = await startTestServer({ storages: ["default"] });
  const client = new TestClient(server.unixAddress);
  const upstreamRoot = await Deno.makeTempDir({ prefix: "upstream-" });
  const upstream = join(upstreamRoot, "up.git");
  const http = startHttpGitServer(upstreamRoot, {
    basicAuth: { user: "alice", password: "s3cret" },
  });
  const storage = server.storagePaths.default;
  try {
    await makeSource(upstream);

    await t.step("clone from a file:// URL", async () => {
      await client.unary(`${REPO}/CreateRepositoryFromURL`, {
        repository: { storage_name: "default", relative_path: "from-file.git" },
        url: `file://${upstream}`,
      });
      const created = join(storage, "from-file.git");
      assertEquals(await listRefs(created), await listRefs(upstream));
      assertEquals(await gitOk(["--git-dir", created, "remote"]), "");
    });

    await t.step("mirror from smart HTTP with credentials in the URL", async () => {
      const url = http.url.replace("http://", "http://alice:s3cret@") + "/up.git";
      await client.unary(`${REPO}/CreateRepositoryFromURL`, {
        repository: { storage_name: "default", relative_path: "from-http.git" },
        url,
        mirror: true,
      });
      assertEquals(await listRefs(join(storage, "from-http.git")), await listRefs(upstream));
      assert(
        http.authorizations.includes(`Basic ${btoa("alice:s3cret")}`),
        "credentials sent as a header",
      );
      const config = await Deno.readTextFile(join(storage, "from-http.git", "config"));
      assert(!config.includes("s3cret"), "no credentials on disk");
    });

    await t.step("a failing clone leaves nothing behind", async () => {
      const before = await storageEntries(storage);
      const [code, message] = await codeOf(client.unary(`${REPO}/CreateRepositoryFromURL`, {
        repository: { storage_name: "default", relative_path: "broken.git" },
        url: `${http.url}/up.git`, // no credentials: 401
      }));
      assertEquals(code, grpc.status.INTERNAL);
      assertMatch(message, /^creating repository: cloning repository:/);
      assertEquals(await storageEntries(storage), before);
      const [exists] = await codeOf(client.unary(`${REPO}/CreateRepositoryFromURL`, {
        repository: { storage_name: "default", relative_path: "from-file.git" },
        url: `file://${upstream}`,
      }));
      assertEquals(exists, grpc.status.ALREADY_EXISTS);
    });

    await t.step("FetchRemote brings new refs and reports tag changes", async () => {
      await gitOk(["--git-dir", upstream, "tag", "v2.0", "main"]);
      await gitOk(["--git-dir", upstream, "branch", "fresh", "main"]);
      const fetch = () =>
        client.unary<{ tags_changed: boolean }>(`${REPO}/FetchRemote`, {
          repository: { storage_name: "default", relative_path: "from-file.git" },
          remote_params: { url: upstream, mirror_refmaps: ["all_refs"] },
          check_tags_changed: true,
          force: true,
        });
      assertEquals((await fetch()).tags_changed, true);
      const refs = await listRefs(join(storage, "from-file.git"));
      assertEquals(refs["refs/tags/v2.0"], (await listRefs(upstream))["refs/tags/v2.0"]);
      assert(refs["refs/heads/fresh"] !== undefined, "new branch fetched");
      assertEquals((await fetch()).tags_changed, false);
      const [code] = await codeOf(client.unary(`${REPO}/FetchRemote`, {
        repository: { storage_name: "default", relative_path: "from-file.git" },
        remote_params: { url: join(upstreamRoot, "missing.git") },
      }));
      assertEquals(code, grpc.status.INTERNAL);
    });

    await t.step("RemoteService: FindRemoteRepository and FindRemoteRootRef", async () => {
      const remote = "/gitaly.RemoteService";
      const found = await client.unary<{ exists: boolean }>(`${remote}/FindRemoteRepository`, {
        remote: upstream,
        storage_name: "default",
      });
      assertEquals(found.exists, true);
      const missing = await client.unary<{ exists: boolean }>(`${remote}/FindRemoteRepository`, {
        remote: join(upstreamRoot, "missing.git"),
        storage_name: "default",
      });
      assertEquals(missing.exists, false);
      const root = await client.unary<{ ref: string }>(`${remote}/FindRemoteRootRef`, {
        repository: { storage_name: "default", relative_path: "from-file.git" },
        remote_url: `${http.url}/up.git`,
        http_authorization_header: `Basic ${btoa("alice:s3cret")}`,
      });
      assertEquals(root.ref, "feature");
    });
  } finally {
    client.close();
    await http.close();
    await server.stop();
    await Deno.remove(upstreamRoot, { recursive: true });
  }
});
