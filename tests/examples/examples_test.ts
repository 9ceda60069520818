/**
 * Runs every example program under tests/examples/ against a live server,
 * the way the README tells readers to run them (`deno run -A …` with
 * `GITALY_ADDRESS`/`GITALY_TOKEN`; the git ones as `GIT_SSH_COMMAND`).
 */
import { join } from "node:path";
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import { createRepo, git, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const TOKEN = "examples-secret";
const decoder = new TextDecoder();

/** The path of example `name`. */
export function examplePath(name: string): string {
  return new URL(`./${name}`, import.meta.url).pathname;
}

/** Runs example `name` with `args`; returns exit code and output. */
async function runExample(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", examplePath(name), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function withServer(
  body: (server: TestServer, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const server = await startTestServer({ token: TOKEN });
  try {
    await createRepo(join(server.storagePaths.default, "group/project.git"), {
      commits: 4,
      branches: ["feature"],
    });
    await body(server, { GITALY_ADDRESS: server.unixAddress, GITALY_TOKEN: TOKEN });
  } finally {
    await server.stop();
  }
}

Deno.test("examples: connecting, auth, pools and typed calls", async () => {
  await withServer(async (server, env) => {
    const expect = async (name: string, output: string | RegExp, args: string[] = []) => {
      const run = await runExample(name, env, args);
      assertEquals(run.code, 0, `${name}: ${run.stderr}`);
      if (typeof output === "string") assertEquals(run.stdout, output, name);
      else assertMatch(run.stdout, output, name);
    };
    await expect("dial_defaults.ts", "SERVING\n");
    await expect("dial_deadline.ts", `connected to ${server.unixAddress}\n`);
    await expect("token_auth.ts", "authenticated (exists: true)\nwrong secret: PermissionDenied\n");
    await expect("pool.ts", "same connection: true\nSERVING\n");
    await expect("health_check_dialer.ts", "server is healthy\n");
    await expect("repository_exists.ts", "group/project.git: exists\n");
    await expect("repository_exists.ts", "other.git: does not exist\n", ["other.git"]);
    await expect("pooled.ts", /^\{"exists":true,"sizeKiB":\d+,"bare":true\}\n$/);

    // Failures the examples report.
    const missing = { ...env, GITALY_ADDRESS: `${server.unixAddress}.missing` };
    const deadline = await runExample("dial_deadline.ts", missing);
    assertEquals(deadline.code, 1);
    assertMatch(deadline.stderr, /failed to dial .*ENOENT/);
    const unhealthy = await runExample("health_check_dialer.ts", missing);
    assertEquals(unhealthy.code, 1);
    assertMatch(unhealthy.stderr, /server is not usable/);
  });
});

Deno.test("examples: git clones through upload_pack_with_sidechannel.ts, pushes through receive_pack.ts", async () => {
  await withServer(async (server, env) => {
    const scratch = await Deno.makeTempDir({ prefix: "examples-git-" });
    const sshEnv = (example: string) => ({
      ...env,
      GIT_SSH_COMMAND: `'${Deno.execPath()}' run -A '${examplePath(example)}'`,
      GIT_SSH_VARIANT: "ssh",
    });
    try {
      const source = join(server.storagePaths.default, "group/project.git");
      const clone = join(scratch, "clone");
      const fetch = sshEnv("upload_pack_with_sidechannel.ts");
      await gitOk(["clone", "-q", "ssh://gitaly/group/project.git", clone], { env: fetch });
      const cloned = await listRefs(join(clone, ".git"));
      assertEquals(cloned["refs/heads/main"], (await listRefs(source))["refs/heads/main"]);

      await Deno.writeTextFile(join(clone, "new.txt"), "from the receive_pack example\n");
      await gitOk(["add", "new.txt"], { cwd: clone });
      await gitOk(["commit", "-q", "-m", "new"], { cwd: clone });
      const head = await gitOk(["rev-parse", "HEAD"], { cwd: clone });
      const push = await git(["push", "-q", "origin", "HEAD:main"], {
        cwd: clone,
        env: sshEnv("receive_pack.ts"),
      });
      assertEquals(push.code, 0, push.stderr);
      assertEquals((await listRefs(source))["refs/heads/main"], head);
      await gitOk(["--git-dir", source, "fsck", "--full"]);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }
  });
});
