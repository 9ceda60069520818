/**
 * Git over `SmartHTTPService`: real git clients talk to the server through
 * a test-only Smart HTTP front end (tests/helpers/http_bridge.ts); the
 * advertisement RPCs are also checked byte for byte, and pushes run the
 * repository's and the global custom hooks.
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { createRepo, git, gitOk, initBareRepo, listRefs } from "../helpers/gitrepo.ts";
import { TestClient } from "../helpers/grpc.ts";
import { startHttpBridge } from "../helpers/http_bridge.ts";
import { startTestServer } from "../helpers/server.ts";

const INFO_REFS_UPLOAD = "/gitaly.SmartHTTPService/InfoRefsUploadPack";
const INFO_REFS_RECEIVE = "/gitaly.SmartHTTPService/InfoRefsReceivePack";
const POST_RECEIVE = "/gitaly.SmartHTTPService/PostReceivePack";

Deno.test({
  name: "Smart HTTP transport",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const hooksDir = await Deno.makeTempDir({ prefix: "global-hooks-" });
  const server = await startTestServer({
    extraToml: `[hooks]\ncustom_hooks_dir = ${JSON.stringify(hooksDir)}`,
  });
  const storage = server.storagePaths.default;
  const bridge = await startHttpBridge({
    address: server.unixAddress,
    glId: "user-7",
    glUsername: "bob",
    glRepository: "project-7",
  });
  const client = new TestClient(server.unixAddress);
  const work = (name: string) => join(server.dir, "work", name);
  const url = (relative: string) => `${bridge.url}/${relative}`;
  await Deno.mkdir(work(""), { recursive: true });
  try {
    await t.step("info/refs: service line, flush, then git's advertisement", async () => {
      await createRepo(join(storage, "adv.git"), { branches: ["b1"] });
      const repository = { storage_name: "default", relative_path: "adv.git" };
      const v0 = await infoRefs(client, INFO_REFS_UPLOAD, { repository });
      assert(v0.startsWith("001e# service=git-upload-pack\n0000"), v0.slice(0, 60));
      assertMatch(v0, /[0-9a-f]{40} refs\/heads\/b1\n/);
      assert(v0.endsWith("0000"), "ends with a flush");

      const v2 = await infoRefs(client, INFO_REFS_UPLOAD, {
        repository,
        git_protocol: "version=2",
      });
      assert(v2.startsWith("001e# service=git-upload-pack\n0000000eversion 2\n"), v2.slice(0, 60));
      assertMatch(v2, /ls-refs/);

      const receive = await infoRefs(client, INFO_REFS_RECEIVE, { repository });
      assert(receive.startsWith("001f# service=git-receive-pack\n0000"), receive.slice(0, 60));
      assertMatch(receive, /report-status/);
      assertMatch(receive, /push-options/);
    });

    await t.step("clone over HTTP with protocol v0 and v2", async () => {
      await createRepo(join(storage, "clone.git"), { branches: ["x"], tags: ["t"] });
      for (const version of ["0", "2"]) {
        const dest = work(`clone-v${version}`);
        const out = await git([
          "-c",
          `protocol.version=${version}`,
          "clone",
          "--bare",
          url("clone.git"),
          dest,
        ]);
        assertEquals(out.code, 0, out.stderr);
        assertEquals(await listRefs(dest), await listRefs(join(storage, "clone.git")));
      }
    });

    await t.step("push over HTTP; hooks see the GL_* environment", async () => {
      const repo = join(storage, "push.git");
      await createRepo(repo);
      const envFile = join(server.dir, "post-receive.env");
      await writeHook(
        join(repo, "custom_hooks", "post-receive"),
        `env | grep -E '^GL_' | sort > '${envFile}'`,
      );
      const clone = work("push");
      await gitOk(["clone", "-q", url("push.git"), clone]);
      await gitOk(["commit", "-q", "--allow-empty", "-m", "new"], { cwd: clone });
      await gitOk(["push", "-q", "origin", "HEAD:refs/heads/feature"], { cwd: clone });
      assertEquals(
        (await listRefs(repo))["refs/heads/feature"],
        await gitOk(["rev-parse", "HEAD"], { cwd: clone }),
      );
      assertEquals(
        await Deno.readTextFile(envFile),
        "GL_ID=user-7\nGL_PROJECT_PATH=\nGL_PROTOCOL=http\nGL_REPOSITORY=project-7\nGL_USERNAME=bob\n",
      );
    });

    await t.step("hooks in <hook>.d and the global directory can reject pushes", async () => {
      const repo = join(storage, "guarded.git");
      await createRepo(repo);
      await writeHook(
        join(repo, "custom_hooks", "pre-receive.d", "10-no-tmp"),
        'while read old new ref; do case $ref in refs/heads/tmp-*) echo "no tmp branches" >&2; exit 1;; esac; done',
      );
      await writeHook(join(repo, "custom_hooks", "pre-receive.d", "20-ignored~"), "exit 1");
      await writeHook(
        join(hooksDir, "update.d", "protect"),
        'case $1 in refs/heads/protected-*) echo "GLOBAL: $1 is protected" >&2; exit 1;; esac',
      );
      const clone = work("guarded");
      await gitOk(["clone", "-q", url("guarded.git"), clone]);
      await gitOk(["commit", "-q", "--allow-empty", "-m", "c"], { cwd: clone });
      const before = await listRefs(repo);

      const tmp = await git(["push", "origin", "HEAD:refs/heads/tmp-1"], { cwd: clone });
      assert(tmp.code !== 0, "push of a tmp branch must fail");
      assertMatch(tmp.stderr, /remote: no tmp branches/);
      const prot = await git(["push", "origin", "HEAD:refs/heads/protected-x"], { cwd: clone });
      assert(prot.code !== 0, "push to a protected branch must fail");
      assertMatch(prot.stderr, /remote: GLOBAL: refs\/heads\/protected-x is protected/);
      assertEquals(await listRefs(repo), before);

      await gitOk(["push", "-q", "origin", "HEAD:refs/heads/fine"], { cwd: clone });
      assert((await listRefs(repo))["refs/heads/fine"] !== undefined, "allowed push lands");
      await Deno.remove(join(hooksDir, "update.d"), { recursive: true });
    });

    await t.step("20 concurrent pushes to different branches of one repository", async () => {
      const repo = join(storage, "busy.git");
      await createRepo(repo);
      const clone = work("busy");
      await gitOk(["clone", "-q", url("busy.git"), clone]);
      const expected: Record<string, string> = {};
      for (let i = 0; i < 20; i++) {
        await gitOk(["commit", "-q", "--allow-empty", "-m", `branch ${i}`], { cwd: clone });
        expected[`refs/heads/b${i}`] = await gitOk(["rev-parse", "HEAD"], { cwd: clone });
        await gitOk(["reset", "-q", "--hard", "HEAD~1"], { cwd: clone });
      }
      const results = await Promise.all(
        Object.entries(expected).map(([ref, oid]) =>
          git(["push", "-q", "origin", `${oid}:${ref}`], { cwd: clone })
        ),
      );
      for (const result of results) assertEquals(result.code, 0, result.stderr);
      const refs = await listRefs(repo);
      for (const [ref, oid] of Object.entries(expected)) assertEquals(refs[ref], oid, ref);
      await gitOk(["--git-dir", repo, "fsck", "--full"]);
    });

    await t.step("request validation", async () => {
      await initBareRepo(join(storage, "valid.git"));
      const repository = { storage_name: "default", relative_path: "valid.git" };
      const missing = { storage_name: "default", relative_path: "nope.git" };
      const codeOfStream = async (path: string, request: unknown) => {
        try {
          await client.serverStream(path, request);
          return { code: grpc.status.OK, details: "" };
        } catch (error) {
          return error as grpc.ServiceError;
        }
      };
      let error = await codeOfStream(INFO_REFS_UPLOAD, { repository: missing });
      assertEquals(error.code, grpc.status.NOT_FOUND);
      error = await codeOfStream(INFO_REFS_RECEIVE, {
        repository,
        git_config_options: ["core.bare"],
      });
      assertEquals(error.code, grpc.status.INVALID_ARGUMENT);
      assertMatch(error.details, /cannot convert invalid config key: "core.bare"/);

      const cases: [unknown, number, RegExp][] = [
        [{ repository: missing, gl_id: "user-1" }, grpc.status.NOT_FOUND, /not found/],
        [{ repository }, grpc.status.INVALID_ARGUMENT, /empty GlId/],
        [
          { repository, gl_id: "u", data: new Uint8Array([1]) },
          grpc.status.INVALID_ARGUMENT,
          /non-empty Data/,
        ],
        [
          { repository, gl_id: "u", git_config_options: ["-c=x"] },
          grpc.status.INVALID_ARGUMENT,
          /invalid configuration key/,
        ],
      ];
      for (const [first, code, message] of cases) {
        const { error } = await client.bidiStream(POST_RECEIVE, [first]);
        assertEquals(error?.code, code, `${JSON.stringify(first)}: ${error?.details}`);
        assertMatch(error!.details, message);
      }
    });
  } finally {
    client.close();
    await bridge.close();
    await server.stop();
    await Deno.remove(hooksDir, { recursive: true });
  }
});

async function infoRefs(client: TestClient, path: string, request: unknown): Promise<string> {
  const responses = await client.serverStream<{ data: Uint8Array }>(path, request);
  const decoder = new TextDecoder();
  return responses.map((r) => decoder.decode(r.data, { stream: true })).join("");
}

async function writeHook(path: string, body: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
}
