/**
 * Git over `SSHService`: real git clients talk to the server through a
 * test-only `GIT_SSH_COMMAND` bridge (tests/helpers/ssh_bridge.ts).
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  cachedLargeRepo,
  copyRepo,
  createRepo,
  git,
  gitEnv,
  gitOk,
  initBareRepo,
  listRefs,
  processesReferencing,
} from "../helpers/gitrepo.ts";
import { TestClient } from "../helpers/grpc.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { sshBridgeEnv } from "../helpers/ssh_bridge.ts";

const UPLOAD_PACK = "/gitaly.SSHService/SSHUploadPack";
const RECEIVE_PACK = "/gitaly.SSHService/SSHReceivePack";
const UPLOAD_ARCHIVE = "/gitaly.SSHService/SSHUploadArchive";
const LARGE_REPO_KEY = "transport-test-50mib-v1";

/** One server for the whole file; each step uses repositories of its own. */
class Fixture {
  readonly client: TestClient;

  constructor(readonly server: TestServer) {
    this.client = new TestClient(server.unixAddress);
  }

  get storage(): string {
    return this.server.storagePaths.default;
  }

  repoPath(relative: string): string {
    return join(this.storage, relative);
  }

  /** A path for client-side clones, inside the server's temp dir. */
  work(name: string): string {
    return join(this.server.dir, "work", name);
  }

  /** git's environment for talking to `relative` as user-1 through the bridge. */
  env(relative: string, extra: Record<string, unknown> = {}): Record<string, string> {
    return sshBridgeEnv(this.server.unixAddress, {
      repository: {
        storage_name: "default",
        relative_path: relative,
        gl_repository: "project-1",
        gl_project_path: "group/project",
      },
      gl_id: "user-1",
      gl_username: "alice",
      ...extra,
    });
  }
}

Deno.test({
  name: "SSH transport",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const large = cachedLargeRepo(LARGE_REPO_KEY, { sizeMiB: 50 });
  large.catch(() => {}); // awaited by the steps that need it
  const server = await startTestServer();
  const f = new Fixture(server);
  await Deno.mkdir(f.work(""), { recursive: true });
  try {
    await t.step("clone with protocol v0 and v2", async () => {
      await createRepo(f.repoPath("clone.git"), { branches: ["feature"], tags: ["v1"] });
      const expected = await listRefs(f.repoPath("clone.git"));
      for (const version of ["0", "2"]) {
        const dest = f.work(`clone-v${version}`);
        const out = await git(
          ["-c", `protocol.version=${version}`, "clone", "--bare", "git@gitaly:clone.git", dest],
          { env: { ...f.env("clone.git"), GIT_TRACE_PACKET: "1" } },
        );
        assertEquals(out.code, 0, out.stderr);
        assertEquals(out.stderr.includes("< version 2"), version === "2", `protocol v${version}`);
        assertEquals(await listRefs(dest), expected);
        await gitOk(["--git-dir", dest, "fsck", "--full"]);
      }
    });

    await t.step("shallow clone and incremental fetch", async () => {
      await createRepo(f.repoPath("fetch.git"), { commits: 5 });
      const env = f.env("fetch.git");
      const shallow = f.work("shallow");
      await gitOk(["clone", "--depth=1", "git@gitaly:fetch.git", shallow], { env });
      assertEquals(await gitOk(["rev-list", "--count", "HEAD"], { cwd: shallow }), "1");
      assertEquals(await gitOk(["rev-parse", "--is-shallow-repository"], { cwd: shallow }), "true");

      const full = f.work("fetch-full");
      await gitOk(["clone", "git@gitaly:fetch.git", full], { env });
      // The server's main moves on by two commits, written straight into the repository.
      const scratch = f.work("fetch-scratch");
      await gitOk(["clone", "-q", f.repoPath("fetch.git"), scratch]);
      for (const n of [1, 2]) {
        await Deno.writeTextFile(join(scratch, `new-${n}.txt`), `${n}\n`);
        await gitOk(["add", "."], { cwd: scratch });
        await gitOk(["commit", "-q", "-m", `new ${n}`], { cwd: scratch });
      }
      await gitOk(["push", "-q", "origin", "main"], { cwd: scratch });
      const out = await git(["fetch", "origin"], { cwd: full, env });
      assertEquals(out.code, 0, out.stderr);
      assertEquals(
        await gitOk(["rev-parse", "origin/main"], { cwd: full }),
        (await listRefs(f.repoPath("fetch.git")))["refs/heads/main"],
      );
      assertEquals(await gitOk(["rev-list", "--count", "origin/main"], { cwd: full }), "7");
    });

    await t.step("push a new branch, force push, delete a branch", async () => {
      await createRepo(f.repoPath("push.git"), { branches: ["old"] });
      const env = f.env("push.git");
      const work = f.work("push");
      await gitOk(["clone", "-q", "git@gitaly:push.git", work], { env });
      await gitOk(["commit", "-q", "--allow-empty", "-m", "topic"], { cwd: work });
      const topic = await gitOk(["rev-parse", "HEAD"], { cwd: work });
      await gitOk(["push", "-q", "origin", "HEAD:refs/heads/topic"], { cwd: work, env });
      assertEquals((await listRefs(f.repoPath("push.git")))["refs/heads/topic"], topic);

      // Rewrite the topic branch: a plain push is refused, a forced one replaces it.
      await gitOk(["commit", "-q", "--amend", "--allow-empty", "-m", "topic v2"], { cwd: work });
      const rewritten = await gitOk(["rev-parse", "HEAD"], { cwd: work });
      const refused = await git(["push", "origin", "HEAD:refs/heads/topic"], { cwd: work, env });
      assert(refused.code !== 0, "non-fast-forward push must fail");
      assertEquals((await listRefs(f.repoPath("push.git")))["refs/heads/topic"], topic);
      await gitOk(["push", "-q", "--force", "origin", "HEAD:refs/heads/topic"], {
        cwd: work,
        env,
      });
      assertEquals((await listRefs(f.repoPath("push.git")))["refs/heads/topic"], rewritten);

      await gitOk(["push", "-q", "origin", "--delete", "old"], { cwd: work, env });
      assertEquals((await listRefs(f.repoPath("push.git")))["refs/heads/old"], undefined);
      await gitOk(["--git-dir", f.repoPath("push.git"), "fsck", "--full"]);
    });

    await t.step(
      "a pre-receive hook rejects a push; the repository's own hooks/ never run",
      async () => {
        await createRepo(f.repoPath("hooked.git"));
        const repo = f.repoPath("hooked.git");
        await writeHook(join(repo, "hooks", "pre-receive"), "exit 1");
        const env = f.env("hooked.git");
        const work = f.work("hooked");
        await gitOk(["clone", "-q", "git@gitaly:hooked.git", work], { env });
        await gitOk(["commit", "-q", "--allow-empty", "-m", "allowed"], { cwd: work });
        await gitOk(["push", "-q", "origin", "HEAD:refs/heads/allowed"], { cwd: work, env });

        await writeHook(
          join(repo, "custom_hooks", "pre-receive"),
          'echo "GL_ID=$GL_ID GL_USERNAME=$GL_USERNAME GL_PROTOCOL=$GL_PROTOCOL"\n' +
            'while read old new ref; do echo "denied: $ref" >&2; done\nexit 1',
        );
        const before = await listRefs(repo);
        await gitOk(["commit", "-q", "--allow-empty", "-m", "denied"], { cwd: work });
        const out = await git(["push", "origin", "HEAD:refs/heads/allowed"], { cwd: work, env });
        assert(out.code !== 0, "the push must fail");
        assertMatch(out.stderr, /remote: GL_ID=user-1 GL_USERNAME=alice GL_PROTOCOL=ssh/);
        assertMatch(out.stderr, /remote: denied: refs\/heads\/allowed/);
        assertMatch(out.stderr, /pre-receive hook declined/);
        assertEquals(await listRefs(repo), before);
      },
    );

    await t.step("git archive --remote goes through upload-archive", async () => {
      await createRepo(f.repoPath("archive.git"));
      const remote = await archiveBytes(["--remote=git@gitaly:archive.git"], f.env("archive.git"));
      const local = await archiveBytes(["--remote", f.repoPath("archive.git")], {});
      assert(remote.byteLength > 1024, "a tar archive");
      assertEquals(remote.byteLength, local.byteLength);
      assert(remote.every((byte, i) => byte === local[i]), "identical archives");
    });

    await t.step("clone an empty repository", async () => {
      await initBareRepo(f.repoPath("empty.git"));
      const dest = f.work("empty");
      const out = await git(["clone", "git@gitaly:empty.git", dest], { env: f.env("empty.git") });
      assertEquals(out.code, 0, out.stderr);
      assertMatch(out.stderr, /cloned an empty repository/);
    });

    await t.step("a 50 MiB repository clones byte-identical", async () => {
      await copyRepo(await large, f.repoPath("large.git"));
      const dest = f.work("large");
      const out = await git(["clone", "--bare", "git@gitaly:large.git", dest], {
        env: f.env("large.git"),
      });
      assertEquals(out.code, 0, out.stderr);
      assertEquals(await listRefs(dest), await listRefs(f.repoPath("large.git")));
      await gitOk(["--git-dir", dest, "fsck", "--full", "--no-dangling"]);
      await Deno.remove(dest, { recursive: true });
    });

    await t.step("a client killed mid-clone leaves no git process behind", async () => {
      const repo = f.repoPath("large.git");
      const dest = f.work("killed-clone");
      const clone = spawnInOwnGroup(
        ["git", "clone", "--bare", "git@gitaly:large.git", dest],
        f.env("large.git"),
      );
      await waitFor(async () => (await packBytesIn(dest)) > 1024 * 1024, "clone to start");
      killGroup(clone);
      await clone.status;
      await waitForNoProcesses([repo, dest]);
      await waitFor(() => callEnded(server, "SSHUploadPack", "Canceled"), "the call to end");
    });

    await t.step("a client killed mid-push leaves refs and processes alone", async () => {
      const repo = f.repoPath("push-target.git");
      await initBareRepo(repo);
      const push = spawnInOwnGroup(
        ["git", "--git-dir", await large, "push", "git@gitaly:push-target.git", "main"],
        f.env("push-target.git"),
      );
      await waitFor(async () => (await packBytesIn(repo)) > 1024 * 1024, "push to start");
      killGroup(push);
      await push.status;
      await waitForNoProcesses([repo]);
      await waitFor(() => callEnded(server, "SSHReceivePack", "Canceled"), "the call to end");
      assertEquals(await listRefs(repo), {});
    });

    await t.step("request validation", async () => {
      await createRepo(f.repoPath("valid.git"));
      const repository = { storage_name: "default", relative_path: "valid.git" };
      const missing = { storage_name: "default", relative_path: "missing.git" };
      const cases: [string, unknown, number, RegExp][] = [
        [UPLOAD_PACK, { repository: missing }, grpc.status.NOT_FOUND, /not found/],
        [
          RECEIVE_PACK,
          { repository: missing, gl_id: "user-1" },
          grpc.status.NOT_FOUND,
          /not found/,
        ],
        [UPLOAD_ARCHIVE, { repository: missing }, grpc.status.NOT_FOUND, /not found/],
        [UPLOAD_PACK, {}, grpc.status.INVALID_ARGUMENT, /repository not set/],
        [
          UPLOAD_PACK,
          { repository, git_config_options: ["no-equals-sign"] },
          grpc.status.INVALID_ARGUMENT,
          /cannot convert invalid config key/,
        ],
        [
          RECEIVE_PACK,
          { repository, gl_id: "user-1", git_config_options: ["nosection=1"] },
          grpc.status.INVALID_ARGUMENT,
          /invalid configuration key/,
        ],
        [
          UPLOAD_PACK,
          { repository, stdin: new Uint8Array([48]) },
          grpc.status.INVALID_ARGUMENT,
          /non-empty stdin in first request/,
        ],
        [RECEIVE_PACK, { repository }, grpc.status.INVALID_ARGUMENT, /empty GlId/],
      ];
      for (const [path, first, code, message] of cases) {
        const { error } = await f.client.bidiStream(path, [first]);
        assertEquals(error?.code, code, `${path} ${JSON.stringify(first)}: ${error?.details}`);
        assertMatch(error!.details, message);
      }
    });

    await t.step("exit_status: sent after a failure, and after every archive", async () => {
      await createRepo(f.repoPath("status.git"));
      const repository = { storage_name: "default", relative_path: "status.git" };
      const garbage = new TextEncoder().encode("0009fooba");
      type Response = { stdout: Uint8Array; stderr: Uint8Array; exit_status: { value: number } };
      // grpc-js may drop a message that races a non-OK status (Go clients do
      // not), so the status message is looked for over a few attempts.
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 8 && statuses.length === 0; attempt++) {
        const failed = await f.client.bidiStream<Response>(UPLOAD_PACK, [
          { repository, git_protocol: "version=2" },
          { stdin: garbage },
        ]);
        assertEquals(failed.error?.code, grpc.status.INTERNAL);
        assertMatch(
          failed.error!.details,
          /^running upload-pack: cmd wait: exit status 128, stderr: "fatal: unknown capability 'fooba'\\n"$/,
        );
        const status = failed.responses.at(-1)?.exit_status;
        if (status) statuses.push(status.value);
      }
      assertEquals(statuses, [128]);

      const archive = await f.client.bidiStream<Response>(UPLOAD_ARCHIVE, [
        { repository },
        { stdin: pktLines(["argument --format=tar", "argument main"]) },
      ]);
      assertEquals(archive.error, undefined);
      assertEquals(archive.responses.at(-1)?.exit_status?.value, 0);
      assert(
        archive.responses.every((r) => r.stdout.length <= 128 * 1024),
        "stdout chunks are at most 128 KiB",
      );
    });
  } finally {
    f.client.close();
    await server.stop();
  }
});

/** The given lines as pkt-lines, then a flush. */
function pktLines(lines: string[]): Uint8Array {
  const text = lines.map((line) => (line.length + 4).toString(16).padStart(4, "0") + line).join("");
  return new TextEncoder().encode(text + "0000");
}

async function writeHook(path: string, body: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
}

async function archiveBytes(remote: string[], env: Record<string, string>): Promise<Uint8Array> {
  const out = await new Deno.Command("git", {
    args: ["archive", ...remote, "--format=tar", "main"],
    env: gitEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return out.stdout;
}

/** Starts a command as the leader of a new process group (so it can be killed with its children). */
function spawnInOwnGroup(args: string[], env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command("setsid", {
    args,
    env: gitEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function killGroup(child: Deno.ChildProcess): void {
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/** Bytes in temporary or finished pack files below `repo` (quarantine included). */
async function packBytesIn(repo: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory && depth < 4) await walk(path, depth + 1);
      else if (entry.isFile && /^(tmp_pack_|pack-)/.test(entry.name)) {
        total += (await Deno.stat(path).catch(() => ({ size: 0 }))).size;
      }
    }
  };
  await walk(join(repo, "objects"), 0).catch(() => {});
  return total;
}

/** Whether the server logged a `method` call that ended with `code`. */
function callEnded(server: TestServer, method: string, code: string): boolean {
  return server.stderr().split("\n").some((line) =>
    line.includes(`"grpc.method":"${method}"`) && line.includes(`"grpc.code":"${code}"`)
  );
}

/** Polls `condition` until it holds (every 20 ms, at most 30 s). */
async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until no process mentions any of `paths`; they must be gone within a second. */
async function waitForNoProcesses(paths: string[]): Promise<void> {
  const started = Date.now();
  let left: number[] = [];
  while (Date.now() - started < 1000) {
    left = (await Promise.all(paths.map((p) => processesReferencing(p)))).flat();
    if (left.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const described = await Promise.all(
    left.map((pid) => Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "?")),
  );
  throw new Error(`processes still running after 1 s: ${described.join("; ")}`);
}
