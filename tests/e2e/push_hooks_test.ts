/**
 * Pushes checked by GitLab's internal API through the hook chain, end to
 * end: real git pushes through our gitaly-ssh to a server whose `[gitlab]`
 * points at a test double of the API. An allowed push lands and shows
 * `/post_receive`'s messages; a denied one shows GitLab's message and
 * leaves neither a ref nor an object behind; custom hooks and push options
 * still work; the `check` subcommand reports on the API.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startGitlabDouble } from "../helpers/gitlab_double.ts";
import { gitalySshEnv, MAIN_TS } from "../helpers/gitaly_ssh.ts";
import { createRepo, git, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";
import { startHttpBridge } from "../helpers/http_bridge.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";

const REPOSITORY = {
  storageName: "default",
  relativePath: "project.git",
  glRepository: "project-1",
  glProjectPath: "group/project",
};

async function writeHook(path: string, body: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

/** Loose objects and packs of a repository, and whether a quarantine dir is left. */
async function objectState(repo: string): Promise<{ counts: string; quarantine: string[] }> {
  const counts = await gitOk(["--git-dir", repo, "count-objects", "-v"]);
  const quarantine: string[] = [];
  for await (const entry of Deno.readDir(join(repo, "objects"))) {
    if (entry.name.startsWith("incoming-") || entry.name.startsWith("tmp_objdir")) {
      quarantine.push(entry.name);
    }
  }
  return { counts: counts.replace(/^size-pack.*$|^size.*$/gm, ""), quarantine };
}

Deno.test("pushes through the hook chain, checked by GitLab's internal API", async (t) => {
  const gitlab = await startGitlabDouble();
  const globalHooks = await Deno.makeTempDir({ prefix: "global-hooks-" });
  const server = await startTestServer({
    extraToml: `${gitlab.toml()}[hooks]\ncustom_hooks_dir = ${JSON.stringify(globalHooks)}\n`,
  });
  const repo = join(server.storagePaths.default, "project.git");
  const work = join(server.dir, "work");
  const env = gitalySshEnv({
    command: "receive-pack",
    address: server.unixAddress,
    payload: { repository: REPOSITORY, glId: "user-1", glUsername: "alice" },
  });
  const push = (args: string[]) =>
    git(["push", ...args, "ssh://gitaly/project.git", "HEAD:refs/heads/feature"], {
      cwd: work,
      env,
    });
  try {
    await createRepo(repo);
    await gitOk(["clone", "--quiet", repo, work]);

    await t.step("an allowed push lands; /post_receive's messages reach git's output", async () => {
      gitlab.behaviour.postReceiveMessages = [
        {
          type: "basic",
          message: "To create a merge request for feature, visit:\n  http://gitlab/mr/new",
        },
        { type: "alert", message: "The main branch is protected: pipelines run on feature." },
      ];
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "allowed"], { cwd: work });
      const head = await gitOk(["rev-parse", "HEAD"], { cwd: work });
      const out = await push(["-o", "ci.skip", "-o", "merge_request.create"]);
      assertEquals(out.code, 0, out.stderr);
      assertEquals((await listRefs(repo))["refs/heads/feature"], head);
      // git pads sideband lines with spaces (to clear the terminal line).
      assertMatch(out.stderr, /remote: To create a merge request for feature, visit: *\n/);
      assertMatch(out.stderr, /remote: {3}http:\/\/gitlab\/mr\/new/);
      assertMatch(out.stderr, new RegExp(`remote: ${"=".repeat(72)}`));
      assertMatch(
        out.stderr,
        /remote: {5,}The main branch is protected: pipelines run on feature\./,
      );

      const [allowed] = gitlab.seen("/allowed");
      assert(allowed, "no /allowed request");
      const body = allowed.body!;
      const zero = "0".repeat(40);
      assertEquals(body.action, "git-receive-pack");
      assertEquals(body.gl_repository, "project-1");
      assertEquals(body.protocol, "ssh");
      assertEquals(body.user_id, "1");
      assertEquals(body.changes, `${zero} ${head} refs/heads/feature\n`);
      assertEquals(body.project, await Deno.realPath(repo));
      assertEquals(body.relative_path, "project.git");
      const objectEnv = JSON.parse(String(body.env));
      assertMatch(objectEnv.GIT_OBJECT_DIRECTORY_RELATIVE, /^objects\/(tmp_objdir-)?incoming-/);
      assertEquals(objectEnv.GIT_ALTERNATE_OBJECT_DIRECTORIES_RELATIVE, ["objects"]);
      assertEquals(allowed.headers["content-type"], "application/json");
      assertMatch(allowed.headers["user-agent"], /^gitaly\//);

      assertEquals(gitlab.seen("/pre_receive").map((r) => r.body), [
        { gl_repository: "project-1" },
      ]);
      assertEquals(gitlab.seen("/post_receive").map((r) => r.body), [{
        gl_repository: "project-1",
        identifier: "user-1",
        changes: `${zero} ${head} refs/heads/feature\n`,
        push_options: ["ci.skip", "merge_request.create"],
      }]);
      // The order Gitaly calls them in.
      assertEquals(
        gitlab.requests.map((r) => r.endpoint),
        ["/allowed", "/pre_receive", "/post_receive"],
      );
    });

    await t.step("a push /allowed denies shows GitLab's message; no ref, no object", async () => {
      gitlab.requests.length = 0;
      gitlab.behaviour.allowed = {
        allow: false,
        message: "You are not allowed to push code to protected branches on this project.",
      };
      const before = await listRefs(repo);
      const objectsBefore = await objectState(repo);
      await Deno.writeTextFile(join(work, "big.txt"), "new content ".repeat(1000));
      await gitOk(["add", "big.txt"], { cwd: work });
      await gitOk(["commit", "--quiet", "-m", "denied"], { cwd: work });
      const out = await push([]);
      assert(out.code !== 0, "the push must fail");
      assertMatch(
        out.stderr,
        /remote: GitLab: You are not allowed to push code to protected branches on this project\./,
      );
      assertMatch(out.stderr, /\[remote rejected\] HEAD -> feature \(pre-receive hook declined\)/);
      assertEquals(await listRefs(repo), before);
      const objectsAfter = await objectState(repo);
      assertEquals(objectsAfter, objectsBefore);
      assertEquals(objectsAfter.quarantine, []);
      assertEquals(gitlab.requests.map((r) => r.endpoint), ["/allowed"]);
      gitlab.behaviour.allowed = { allow: true };
    });

    await t.step("custom hooks run after /allowed and see push options and GL_*", async () => {
      gitlab.requests.length = 0;
      gitlab.behaviour.postReceiveMessages = [];
      const log = join(server.dir, "hooks.log");
      await writeHook(
        join(repo, "custom_hooks", "pre-receive"),
        `echo "pre-receive $GL_ID $GL_USERNAME $GL_PROTOCOL $GL_REPOSITORY $GL_PROJECT_PATH ` +
          `$GIT_PUSH_OPTION_COUNT $GIT_PUSH_OPTION_0" >> '${log}'\n` +
          // The pushed objects are readable through the quarantine.
          `while read old new ref; do git cat-file -t "$new" >> '${log}'; done`,
      );
      await writeHook(join(globalHooks, "update.d", "10-log"), `echo "update $1" >> '${log}'`);
      await writeHook(
        join(repo, "custom_hooks", "post-receive.d", "10-log"),
        `echo "post-receive $GIT_PUSH_OPTION_0" >> '${log}'; echo "hello from post-receive"`,
      );
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "custom"], { cwd: work });
      const out = await push(["-o", "skip"]);
      assertEquals(out.code, 0, out.stderr);
      assertEquals(
        await Deno.readTextFile(log),
        "pre-receive user-1 alice ssh project-1 group/project 1 skip\ncommit\n" +
          "update refs/heads/feature\npost-receive skip\n",
      );
      assertMatch(out.stderr, /remote: hello from post-receive/);

      // A failing custom hook rejects the push after /allowed said yes, before /pre_receive.
      gitlab.requests.length = 0;
      await writeHook(
        join(repo, "custom_hooks", "pre-receive"),
        `echo "custom says no" >&2; exit 3`,
      );
      const before = await listRefs(repo);
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "custom-denied"], { cwd: work });
      const denied = await push([]);
      assert(denied.code !== 0, "the push must fail");
      assertMatch(denied.stderr, /remote: custom says no/);
      assertMatch(denied.stderr, /pre-receive hook declined/);
      assertEquals(await listRefs(repo), before);
      assertEquals(gitlab.requests.map((r) => r.endpoint), ["/allowed"]);
      await Deno.remove(join(repo, "custom_hooks"), { recursive: true });
      await Deno.remove(join(globalHooks, "update.d"), { recursive: true });
    });

    await t.step("an unknown gl_id is refused before GitLab is asked", async () => {
      gitlab.requests.length = 0;
      const badEnv = gitalySshEnv({
        command: "receive-pack",
        address: server.unixAddress,
        payload: { repository: REPOSITORY, glId: "nobody" },
      });
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "who"], { cwd: work });
      const out = await git(["push", "ssh://gitaly/project.git", "HEAD:refs/heads/feature"], {
        cwd: work,
        env: badEnv,
      });
      assert(out.code !== 0, "the push must fail");
      assertMatch(out.stderr, /remote: GitLab: setting gl_id: gl_id='nobody' is invalid/);
      assertEquals(gitlab.requests.length, 0);
    });

    await t.step("over Smart HTTP: /allowed hears protocol http, the user by key", async () => {
      gitlab.requests.length = 0;
      gitlab.behaviour.postReceiveMessages = [{ type: "basic", message: "pushed over http" }];
      const bridge = await startHttpBridge({
        address: server.unixAddress,
        glId: "key-42",
        glUsername: "carol",
        glRepository: "project-1",
      });
      try {
        await gitOk(["commit", "--quiet", "--allow-empty", "-m", "http"], { cwd: work });
        const head = await gitOk(["rev-parse", "HEAD"], { cwd: work });
        const out = await git(["push", `${bridge.url}/project.git`, "HEAD:refs/heads/http"], {
          cwd: work,
        });
        assertEquals(out.code, 0, out.stderr);
        assertMatch(out.stderr, /remote: pushed over http/);
        assertEquals((await listRefs(repo))["refs/heads/http"], head);
        const [allowed] = gitlab.seen("/allowed");
        assertEquals(allowed.body?.protocol, "http");
        assertEquals(allowed.body?.key_id, "42");
        assertEquals(gitlab.seen("/post_receive")[0].body?.identifier, "key-42");
      } finally {
        await bridge.close();
      }
    });

    await t.step("check: the API answers", async () => {
      const out = await check(server.configPath);
      assertEquals(out.code, 0, out.stderr);
      assertEquals(
        out.stdout,
        "Checking GitLab API access: OK\nGitLab version: 16.7.0-double\n" +
          "GitLab revision: d0ub1e\nGitLab Api version: v4\nRedis reachable for GitLab: true\nOK\n",
      );
      const [request] = gitlab.seen("/check");
      assertEquals(request.method, "GET");
    });

    await t.step("check: a wrong secret and an unreachable API fail clearly", async () => {
      const dir = await Deno.makeTempDir({ prefix: "check-" });
      try {
        const wrong = join(dir, "wrong.toml");
        await Deno.writeTextFile(
          wrong,
          `socket_path = "${dir}/s"\n[[storage]]\nname = "default"\npath = "${dir}"\n` +
            `[gitlab]\nurl = ${JSON.stringify(gitlab.url)}\nsecret = "not-the-secret"\n`,
        );
        const denied = await check(wrong);
        assertEquals(denied.code, 1);
        assertEquals(denied.stdout, "Checking GitLab API access: FAILED\n");
        assertMatch(denied.stderr, /HTTP GET to GitLab endpoint \/check failed: 401 Unauthorized/);

        const gone = join(dir, "gone.toml");
        await Deno.writeTextFile(
          gone,
          `socket_path = "${dir}/s"\n[[storage]]\nname = "default"\npath = "${dir}"\n` +
            `[gitlab]\nurl = "http+unix://${dir}/no.socket"\nsecret = "x"\n`,
        );
        const unreachable = await check(gone);
        assertEquals(unreachable.code, 1);
        assertEquals(unreachable.stdout, "Checking GitLab API access: FAILED\n");
        assertMatch(
          unreachable.stderr,
          /HTTP GET to GitLab endpoint \/check failed: Internal API unreachable/,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  } finally {
    await server.stop();
    await gitlab.close();
    await Deno.remove(globalHooks, { recursive: true });
  }
});

Deno.test("pushes on a server with an auth token: the hooks authenticate on the internal socket", async () => {
  const gitlab = await startGitlabDouble({ tcp: true });
  const server = await startTestServer({ token: "s3cret", extraToml: gitlab.toml() });
  try {
    const repo = join(server.storagePaths.default, "project.git");
    const work = join(server.dir, "work");
    await createRepo(repo);
    await gitOk(["clone", "--quiet", repo, work]);
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "token"], { cwd: work });
    const env = gitalySshEnv({
      command: "receive-pack",
      address: server.unixAddress,
      token: "s3cret",
      payload: { repository: REPOSITORY, glId: "user-1" },
    });
    const out = await git(["push", "ssh://gitaly/project.git", "HEAD:refs/heads/token"], {
      cwd: work,
      env,
    });
    assertEquals(out.code, 0, out.stderr);
    assertEquals(
      (await listRefs(repo))["refs/heads/token"],
      await gitOk(["rev-parse", "HEAD"], { cwd: work }),
    );
    assertEquals(gitlab.requests.map((r) => r.endpoint), [
      "/allowed",
      "/pre_receive",
      "/post_receive",
    ]);
  } finally {
    await server.stop();
    await gitlab.close();
  }
});

Deno.test({
  name: "check: https with ca_file or ca_path, basic auth, relative_url_root on a socket",
  ignore: !(await haveOpenssl()),
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "check-tls-" });
  const certs = await makeTestCertificates(dir);
  const https = await startGitlabDouble({ tls: certs });
  const unix = await startGitlabDouble();
  const config = async (name: string, gitlab: string) => {
    const path = join(dir, name);
    await Deno.writeTextFile(
      path,
      `socket_path = "${dir}/s"\n[[storage]]\nname = "default"\npath = "${dir}"\n${gitlab}`,
    );
    return path;
  };
  try {
    const secret = `secret_file = ${JSON.stringify(https.secretFile)}\n`;
    const caFile = await config(
      "ca-file.toml",
      `[gitlab]\nurl = "${https.url}"\n${secret}[gitlab.http-settings]\n` +
        `ca_file = ${JSON.stringify(certs.caPath)}\nuser = "u"\npassword = "p"\n`,
    );
    const ok = await check(caFile);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(https.seen("/check")[0].headers.authorization, `Basic ${btoa("u:p")}`);

    const caDir = join(dir, "ca.d");
    await Deno.mkdir(caDir);
    await Deno.copyFile(certs.caPath, join(caDir, "ca.pem"));
    const caPath = await config(
      "ca-path.toml",
      `[gitlab]\nurl = "${https.url}"\n${secret}[gitlab.http-settings]\n` +
        `ca_path = ${JSON.stringify(caDir)}\n`,
    );
    const viaDir = await check(caPath);
    assertEquals(viaDir.code, 0, viaDir.stderr);

    const none = await config("none.toml", `[gitlab]\nurl = "${https.url}"\n${secret}`);
    const untrusted = await check(none);
    assertEquals(untrusted.code, 1);
    assertMatch(untrusted.stderr, /Internal API unreachable/);

    const rooted = await config(
      "rooted.toml",
      `[gitlab]\nurl = "${unix.url}"\nrelative_url_root = "/gitlab/"\n` +
        `secret_file = ${JSON.stringify(unix.secretFile)}\n`,
    );
    const viaRoot = await check(rooted);
    assertEquals(viaRoot.code, 0, viaRoot.stderr);
    assertEquals(unix.seen("/check")[0].path, "/gitlab/api/v4/internal/check");
  } finally {
    await https.close();
    await unix.close();
    await Deno.remove(dir, { recursive: true });
  }
});

async function check(
  configPath: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN_TS, "check", "--config", configPath],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
