/**
 * The git transfer helpers with real git on both sides: git clones,
 * pushes and archives through `git_ssh_program.ts`, a GIT_SSH_COMMAND
 * built on `uploadPack`, `uploadPackWithSidechannel`, `receivePack` and
 * `uploadArchive`, against the real server.
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import {
  Code,
  dial,
  dialSidechannel,
  SidechannelRegistry,
  uploadPack,
  uploadPackWithSidechannel,
} from "../../src/client/mod.ts";
import { assertEquals, assertMatch, assertRejects } from "../helpers/assert.ts";
import { createRepo, git, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";

const TOKEN = "transfer-secret";
const PROGRAM = new URL("./git_ssh_program.ts", import.meta.url).pathname;
const SSH_COMMAND = `'${Deno.execPath()}' run -A '${PROGRAM}'`;

interface Fixture {
  server: TestServer;
  scratch: string;
  repoPath: string;
  caPath?: string;
}

async function withFixture(body: (f: Fixture) => Promise<void>): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "client-transfer-" });
  const certs = (await haveOpenssl()) ? await makeTestCertificates(scratch) : undefined;
  const server = await startTestServer({ token: TOKEN, tls: certs });
  const repoPath = join(server.storagePaths.default, "repo.git");
  try {
    await createRepo(repoPath, { commits: 5, branches: ["feature"], tags: ["v1"] });
    await body({ server, scratch, repoPath, caPath: certs?.caPath });
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

function sshEnv(address: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GIT_SSH_COMMAND: SSH_COMMAND,
    GIT_SSH_VARIANT: "ssh", // git then passes GIT_PROTOCOL (protocol v2)
    GITALY_ADDRESS: address,
    GITALY_TOKEN: TOKEN,
    GITALY_REPO: "repo.git",
    ...extra,
  };
}

async function cloneAndCompare(f: Fixture, name: string, env: Record<string, string>) {
  for (const version of ["0", "2"]) {
    const target = join(f.scratch, `${name}-v${version}.git`);
    const out = await git(
      ["-c", `protocol.version=${version}`, "clone", "--bare", "ssh://gitaly/repo.git", target],
      { env },
    );
    assertEquals(out.code, 0, out.stderr);
    assertEquals(await listRefs(target), await listRefs(f.repoPath), `${name} v${version}`);
    await gitOk(["--git-dir", target, "fsck", "--full"]);
  }
}

Deno.test("uploadPack: git clones through SSHUploadPack", async () => {
  await withFixture(async (f) => {
    await cloneAndCompare(f, "plain", sshEnv(f.server.unixAddress));
  });
});

Deno.test("uploadPackWithSidechannel: git clones over unix, tcp and tls", async () => {
  await withFixture(async (f) => {
    const sidechannel = { USE_SIDECHANNEL: "1" };
    await cloneAndCompare(f, "unix", sshEnv(f.server.unixAddress, sidechannel));
    await cloneAndCompare(f, "tcp", sshEnv(`tcp://${f.server.tcpAddress}`, sidechannel));
    if (f.caPath) {
      const tls = { ...sidechannel, CA_FILE: f.caPath };
      await cloneAndCompare(f, "tls", sshEnv(`tls://${f.server.tlsAddress}`, tls));
    }
    const calls = f.server.stderr().split("\n").filter((line) =>
      line.includes('"grpc.method":"SSHUploadPackWithSidechannel"') &&
      line.includes('"grpc.code":"OK"')
    );
    assertEquals(calls.length, f.caPath ? 6 : 4);
  });
});

Deno.test("receivePack: git pushes through SSHReceivePack", async () => {
  await withFixture(async (f) => {
    const env = sshEnv(f.server.unixAddress);
    const work = join(f.scratch, "work");
    await gitOk(["clone", "-q", "ssh://gitaly/repo.git", work], { env });
    await Deno.writeTextFile(join(work, "pushed.txt"), "pushed through receivePack\n");
    await gitOk(["add", "pushed.txt"], { cwd: work });
    await gitOk(["commit", "-q", "-m", "pushed"], { cwd: work });
    const head = await gitOk(["rev-parse", "HEAD"], { cwd: work });
    await gitOk(["push", "-q", "origin", "HEAD:refs/heads/pushed", "HEAD:main"], {
      cwd: work,
      env,
    });
    const refs = await listRefs(f.repoPath);
    assertEquals([refs["refs/heads/pushed"], refs["refs/heads/main"]], [head, head]);
    await gitOk(["--git-dir", f.repoPath, "fsck", "--full"]);

    // A refused push is the remote's exit status, not a client failure.
    const stale = await git(["push", "origin", "HEAD~1:main"], { cwd: work, env });
    assertEquals(stale.code !== 0, true, stale.stderr);
    assertEquals((await listRefs(f.repoPath))["refs/heads/main"], head);
  });
});

Deno.test("uploadArchive: git archive --remote gets the server's archive", async () => {
  await withFixture(async (f) => {
    const env = sshEnv(f.server.unixAddress);
    const remote = await archive(["archive", "--remote=ssh://gitaly/repo.git", "main"], env);
    const local = await archive(["--git-dir", f.repoPath, "archive", "main"], {});
    assertEquals(remote.byteLength > 1024, true);
    assertEquals(remote, local);
  });
});

/** Runs git and returns its raw stdout (a tar archive). */
async function archive(args: string[], env: Record<string, string>): Promise<Uint8Array> {
  const out = await new Deno.Command("git", {
    args,
    env: { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

Deno.test("transfers: aborting the signal cancels a transfer waiting on stdin", async () => {
  await withFixture(async (f) => {
    const repository = { storage_name: "default", relative_path: "repo.git" };
    // git upload-pack advertises its refs, then waits for a request that never comes.
    const silent = () => new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    const abortOnOutput = () => {
      const controller = new AbortController();
      let seen = "";
      const stdout = (chunk: Uint8Array) => {
        seen += new TextDecoder().decode(chunk);
        controller.abort();
      };
      return { controller, stdout, seen: () => seen };
    };

    const conn = dial(f.server.unixAddress, { token: TOKEN });
    const plain = abortOnOutput();
    const cancelled = await assertRejects(
      uploadPack(conn, { repository }, { stdin: silent(), stdout: plain.stdout }, {
        signal: plain.controller.signal,
      }),
    );
    assertEquals((cancelled as grpc.ServiceError).code, Code.CANCELLED);
    assertMatch(plain.seen(), /refs\/heads\/main/);
    conn.close();

    const registry = new SidechannelRegistry();
    const side = dialSidechannel(f.server.unixAddress, registry, { token: TOKEN });
    const viaSidechannel = abortOnOutput();
    const cancelledToo = await assertRejects(
      uploadPackWithSidechannel(side, registry, { repository }, {
        stdin: silent(),
        stdout: viaSidechannel.stdout,
      }, { signal: viaSidechannel.controller.signal }),
    );
    assertEquals((cancelledToo as grpc.ServiceError).code, Code.CANCELLED);
    assertEquals(registry.waiting, 0);
    side.close();
    const idle = dial(f.server.unixAddress);
    await assertRejects(uploadPack(idle, { repository }, {}, { signal: AbortSignal.abort() }));
    idle.close();
  });
});
