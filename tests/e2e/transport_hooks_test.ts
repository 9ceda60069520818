/**
 * The pieces of the transport RPCs and the hook chain that need no server:
 * custom hook lookup, the runtime directory's life cycle, the hooks
 * payload, post-receive message formatting, the GitLab API token, and
 * request option parsing.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { assertMatch } from "../helpers/assert.ts";
import { validToken } from "../helpers/gitlab_double.ts";
import { signApiToken } from "../../src/gitlab/client.ts";
import { findCustomHooks, formatMessages } from "../../src/service/hooks/chain.ts";
import { HooksRuntime } from "../../src/service/hooks/mod.ts";
import { hookScript } from "../../src/service/hooks/runtime.ts";
import {
  encodeHooksPayload,
  hooksPayloadFromEnv,
  PayloadError,
  RECEIVE_PACK_HOOKS,
} from "../../src/service/hooks/payload.ts";
import { gitProtocolEnv, parseGitConfigOptions } from "../../src/service/shared/git_options.ts";
import { GrpcError } from "../../src/server/errors.ts";

async function writeHook(path: string, body: string, mode = 0o755): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, mode);
}

Deno.test("custom hooks: repository, .d and global hooks in order; backups, non-executables and folders skipped", async () => {
  const root = await Deno.makeTempDir({ prefix: "hooks-test-" });
  try {
    const repo = join(root, "repo.git");
    const global = join(root, "global");
    await writeHook(join(repo, "custom_hooks", "pre-receive"), "true");
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "b"), "true");
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "a"), "true");
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "c~"), "true");
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "off"), "true", 0o644);
    await Deno.mkdir(join(repo, "custom_hooks", "pre-receive.d", "subdir"));
    await writeHook(join(global, "pre-receive.d", "g"), "true");
    assertEquals(await findCustomHooks(repo, "pre-receive", global), [
      join(repo, "custom_hooks", "pre-receive"),
      join(repo, "custom_hooks", "pre-receive.d", "a"),
      join(repo, "custom_hooks", "pre-receive.d", "b"),
      join(global, "pre-receive.d", "g"),
    ]);
    assertEquals(await findCustomHooks(repo, "pre-receive", undefined), [
      join(repo, "custom_hooks", "pre-receive"),
      join(repo, "custom_hooks", "pre-receive.d", "a"),
      join(repo, "custom_hooks", "pre-receive.d", "b"),
    ]);
    assertEquals(await findCustomHooks(repo, "update", global), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("runtime dir: Perl hooks forward to the hook socket, shell fallbacks exec the hooks subcommand; removed by closeSync; stale ones pruned", async () => {
  const root = await Deno.makeTempDir({ prefix: "hooks-test-" });
  try {
    const stale = join(root, "gitaly-hooks-999999999-abc");
    await Deno.mkdir(stale);
    const runtime = new HooksRuntime(root);
    await runtime.prepare();
    const dir = runtime.dir;
    await runtime.prepare();
    assertEquals(runtime.dir, dir);
    assertEquals(runtime.internalSocket, join(dir, "internal.sock"));
    assertEquals(runtime.hookSocket, join(dir, "hooks.sock"));
    for (const hook of ["pre-receive", "update", "post-receive", "reference-transaction"]) {
      const path = join(runtime.hooksDir, hook);
      const info = await Deno.stat(path);
      assertEquals((info.mode ?? 0) & 0o777, 0o755, hook);
      const forward = await Deno.readTextFile(path);
      assertMatch(forward, /^#!\/\S*perl\n/);
      assert(forward.includes(`my $socket = '${runtime.hookSocket}';`), forward);
      assert(forward.includes(`my $fallback = '${join(dir, "fallback")}';`), forward);
      const script = await Deno.readTextFile(join(dir, "fallback", hook));
      assert(script.includes(Deno.execPath()), script);
      assertMatch(script, /main\.ts'? hooks "\$\{0##\*\/\}" "\$@"\n$/);
    }
    // Without Perl the hooks are the shell scripts themselves.
    const noPerl = new HooksRuntime(root, undefined, "");
    await noPerl.prepare();
    assertEquals(
      await Deno.readTextFile(join(noPerl.hooksDir, "update")),
      await Deno.readTextFile(join(noPerl.dir, "fallback", "update")),
    );
    noPerl.closeSync();
    await Deno.stat(stale).then(() => assert(false, "stale directory kept"), () => {});
    // Hooks that would do nothing do not start the subcommand.
    const script = await Deno.readTextFile(join(runtime.dir, "fallback", "update"));
    assertMatch(
      script,
      /\[ -e custom_hooks\/update \] \|\| \[ -e custom_hooks\/update\.d \] \|\| ! untransacted \|\| exit 0/,
    );
    const withGlobal = hookScript("/global hooks", "true");
    assertMatch(withGlobal, /\[ -e '\/global hooks\/update\.d' \] \|\| ! untransacted \|\| exit 0/);
    assertMatch(withGlobal, /grep -q '"transaction":null'/);
    // With a transaction, update runs (to synchronize) and reference-transaction votes, but
    // never on `aborted`.
    const echo = join(root, "echo-hooks");
    await Deno.mkdir(echo);
    for (const hook of ["update", "reference-transaction"]) {
      await Deno.writeTextFile(join(echo, hook), hookScript(undefined, "echo RUN"), {
        mode: 0o755,
      });
      await Deno.chmod(join(echo, hook), 0o755);
    }
    const run = async (hook: string, arg: string, transaction: unknown) => {
      const out = await new Deno.Command(join(echo, hook), {
        args: [arg],
        cwd: root,
        env: { GITALY_HOOKS_PAYLOAD: btoa(JSON.stringify({ transaction })) },
        stdin: "null",
        stdout: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    };
    const tx = { id: 1, node: "n", primary: true };
    assertEquals(await run("update", "refs/heads/x", null), "");
    assertEquals(await run("update", "refs/heads/x", tx), "RUN update refs/heads/x");
    assertEquals(await run("reference-transaction", "prepared", null), "");
    assertEquals(
      await run("reference-transaction", "prepared", tx),
      "RUN reference-transaction prepared",
    );
    assertEquals(await run("reference-transaction", "aborted", tx), "");
    runtime.closeSync();
    await Deno.stat(dir).then(() => assert(false, "directory kept"), () => {});
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hooks payload: Gitaly's layout, round trip", () => {
  const encoded = encodeHooksPayload({
    requestedHooks: RECEIVE_PACK_HOOKS,
    featureFlags: [],
    runtimeDir: "/run/x",
    internalSocket: "/run/x/internal.sock",
    internalSocketToken: "tok",
    transaction: null,
    userDetails: { username: "alice", userid: "user-1", protocol: "ssh" },
    repository: { storage_name: "default", relative_path: "a.git", gl_repository: "project-1" },
  });
  const json = JSON.parse(atob(encoded));
  assertEquals(json, {
    requested_hooks: 15,
    runtime_dir: "/run/x",
    internal_socket: "/run/x/internal.sock",
    internal_socket_token: "tok",
    transaction: null,
    user_details: { username: "alice", userid: "user-1", protocol: "ssh" },
    repository: '{"storageName":"default","relativePath":"a.git","glRepository":"project-1"}',
  });
  const decoded = hooksPayloadFromEnv(["A=b", `GITALY_HOOKS_PAYLOAD=${encoded}`]);
  assertEquals(decoded.userDetails?.userid, "user-1");
  assertEquals(decoded.repository.relative_path, "a.git");
  assertEquals(decoded.repository.gl_repository, "project-1");
  assertEquals(decoded.internalSocketToken, "tok");
  assertThrows(() => hooksPayloadFromEnv(["A=b"]), (e) => e instanceof PayloadError);
});

Deno.test("post-receive messages: formatted as Gitaly prints them", () => {
  assertEquals(formatMessages([{ type: "basic", message: "hello" }]), "\nhello\n\n");
  const alert = formatMessages([{ type: "alert", message: "short alert" }]);
  const rule = "=".repeat(72);
  assertEquals(alert, `\n${rule}\n\n${" ".repeat(30)}short alert\n\n${rule}\n\n`);
  const long = formatMessages([{ type: "alert", message: "word ".repeat(30) }]).split("\n");
  assert(long.every((line) => line.length <= 72), "lines wrap at 72");
  assertThrows(() => formatMessages([{ type: "other", message: "x" }]));
});

Deno.test("GitLab API token: HS256 JWT from gitlab-shell, a minute long", () => {
  const token = signApiToken(" secret\n", 1_700_000_000);
  const [header, claims] = token.split(".").slice(0, 2).map((part) =>
    JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/")))
  );
  assertEquals(header, { alg: "HS256", typ: "JWT" });
  assertEquals(claims, { iss: "gitlab-shell", exp: 1_700_000_060, iat: 1_700_000_000 });
  assert(validToken(signApiToken("secret"), "secret"), "the double accepts our tokens");
  assert(!validToken(signApiToken("other"), "secret"), "a wrong secret is refused");
});

Deno.test("git_config_options: key=value pairs only", () => {
  assertEquals(parseGitConfigOptions(["uploadpack.allowFilter=true", "a.b.c=x=y", "core.x="]), [
    { key: "uploadpack.allowFilter", value: "true" },
    { key: "a.b.c", value: "x=y" },
    { key: "core.x", value: "" },
  ]);
  for (const bad of ["novalue", "nosection=1", ".a=1", "a.=1", "=1", "a b.c=1", "a.b=x\ny"]) {
    assertThrows(() => parseGitConfigOptions([bad]), (e) => e instanceof GrpcError && e.code === 3);
  }
});

Deno.test("git_protocol: only version=1 and version=2 reach git", () => {
  assertEquals(gitProtocolEnv("version=2"), { GIT_PROTOCOL: "version=2" });
  assertEquals(gitProtocolEnv("version=1"), { GIT_PROTOCOL: "version=1" });
  assertEquals(gitProtocolEnv(""), {});
  assertEquals(gitProtocolEnv("version=2:other"), {});
});
