/**
 * gitaly-ssh as git's GIT_SSH_COMMAND against a running server: clones over
 * protocol v0 and v2, a push, an archive, and the ways it fails (exit 1 and
 * one line on stderr).
 */
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { createRepo, git, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { gitalySshEnv, MAIN_TS, pushThroughGitalySsh, repoPayload } from "../helpers/gitaly_ssh.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";

const TOKEN = "gitaly-ssh-secret";

async function withServer(fn: (server: TestServer, work: string) => Promise<void>) {
  const server = await startTestServer({ token: TOKEN });
  const work = await Deno.makeTempDir({ prefix: "gitaly-ssh-e2e-" });
  try {
    await createRepo(join(server.storagePaths.default, "project.git"), { commits: 3 });
    await fn(server, work);
  } finally {
    await server.stop();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("gitaly-ssh: clone (v0 and v2), push and archive through a running server", async (t) => {
  await withServer(async (server, work) => {
    const source = join(server.storagePaths.default, "project.git");
    const expected = await listRefs(source);

    for (const protocol of ["", "version=2"]) {
      await t.step(`clone with git_protocol=${JSON.stringify(protocol)}`, async () => {
        const target = join(work, `clone-${protocol || "v0"}.git`);
        const env = gitalySshEnv({
          command: "upload-pack",
          address: server.unixAddress,
          token: TOKEN,
          payload: repoPayload("default", "project.git", protocol ? { gitProtocol: protocol } : {}),
        });
        await gitOk(["clone", "--bare", "ssh://gitaly/project.git", target], { env });
        assertEquals(await listRefs(target), expected);
        await gitOk(["--git-dir", target, "fsck", "--no-progress"]);
      });
    }

    await t.step("push a new branch", async () => {
      const { pushed, ref } = await pushThroughGitalySsh({
        source,
        work,
        address: server.unixAddress,
        token: TOKEN,
        branch: "pushed",
      });
      assertEquals(ref, pushed);
    });

    await t.step("archive through upload-archive", async () => {
      const env = gitalySshEnv({
        command: "upload-archive",
        address: server.tcpAddress ? `tcp://${server.tcpAddress}` : server.unixAddress,
        token: TOKEN,
        payload: repoPayload("default", "project.git"),
      });
      const out = await git([
        "archive",
        "--remote=ssh://gitaly/project.git",
        "--format=tar",
        "HEAD",
      ], {
        cwd: work,
        env,
      });
      assertEquals(out.code, 0, out.stderr);
      assertGreaterThanZero(out.stdout.length);
    });
  });
});

Deno.test({
  name: "gitaly-ssh: clone over tls:// trusting SSL_CERT_FILE",
  ignore: !(await haveOpenssl()),
  async fn() {
    const certDir = await Deno.makeTempDir({ prefix: "gitaly-ssh-tls-" });
    const certs = await makeTestCertificates(certDir);
    const server = await startTestServer({ token: TOKEN, tls: certs });
    try {
      const source = join(server.storagePaths.default, "project.git");
      await createRepo(source);
      const env = gitalySshEnv({
        command: "upload-pack",
        address: `tls://${server.tlsAddress}`,
        token: TOKEN,
        payload: repoPayload("default", "project.git", { gitProtocol: "version=2" }),
        extra: { SSL_CERT_FILE: certs.caPath },
      });
      const target = join(certDir, "clone.git");
      await gitOk(["clone", "--bare", "ssh://gitaly/project.git", target], { env });
      assertEquals(await listRefs(target), await listRefs(source));
      // Without the CA the server's certificate is not trusted.
      const untrusted = await git(["clone", "--bare", "ssh://gitaly/project.git", `${target}-2`], {
        env: { ...env, SSL_CERT_FILE: "" },
      });
      assert(untrusted.code !== 0, "untrusted certificate refused");
      assertMatch(untrusted.stderr, /gitaly-ssh: upload-pack: rpc error: code = Unavailable/);
    } finally {
      await server.stop();
      await Deno.remove(certDir, { recursive: true });
    }
  },
});

Deno.test("gitaly-ssh: its own errors exit 1 with one line on stderr", async (t) => {
  await withServer(async (server) => {
    const payload = JSON.stringify(repoPayload("default", "project.git"));
    const good = {
      GITALY_ADDRESS: server.unixAddress,
      GITALY_PAYLOAD: payload,
      GITALY_TOKEN: TOKEN,
    };
    const cases: [string, string[], Record<string, string>, RegExp][] = [
      ["git's -G probe (too few arguments)", ["-G", "gitaly"], good, /invalid number of arguments/],
      [
        "unknown command",
        ["fetch-pack", "gitaly", "git-fetch-pack"],
        good,
        /invalid pack command: "fetch-pack"/,
      ],
      [
        "no address",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_ADDRESS: "" },
        /address can not be empty/,
      ],
      [
        "bad address",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_ADDRESS: "gopher://x" },
        /invalid connection string/,
      ],
      [
        "no payload",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_PAYLOAD: "" },
        /GITALY_PAYLOAD is not set/,
      ],
      [
        "bad payload",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_PAYLOAD: "{oops" },
        /json unmarshal/,
      ],
      ["unknown payload field", ["upload-pack", "gitaly", "x"], {
        ...good,
        GITALY_PAYLOAD: `{"repo":{}}`,
      }, /unknown field "repo"/],
      ["missing working directory", ["upload-pack", "gitaly", "x"], {
        ...good,
        GITALY_WD: "/nonexistent/dir",
      }, /unable to chdir/],
      [
        "wrong token",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_TOKEN: "wrong" },
        /code = PermissionDenied/,
      ],
      [
        "no such repository",
        ["upload-pack", "gitaly", "x"],
        { ...good, GITALY_PAYLOAD: JSON.stringify(repoPayload("default", "missing.git")) },
        /code = NotFound/,
      ],
    ];
    for (const [name, args, env, pattern] of cases) {
      await t.step(name, async () => {
        const { code, stderr } = await runGitalySsh(args, env);
        assertEquals(code, 1, stderr);
        const lines = stderr.trimEnd().split("\n");
        assertEquals(lines.length, 1, stderr);
        assertMatch(lines[0], /^gitaly-ssh: /);
        assertMatch(lines[0], pattern);
      });
    }
  });
});

/** Runs our gitaly-ssh with stdin closed; returns the exit code and stderr. */
async function runGitalySsh(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN_TS, "gitaly-ssh", ...args],
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

function assertGreaterThanZero(n: number): void {
  assert(n > 0, `expected output, got ${n} bytes`);
}
