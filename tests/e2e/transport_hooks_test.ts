/**
 * The pieces of the transport RPCs that need no server: the generated hook
 * script (order, skipping, input replay, failure), the hooks directory's
 * life cycle, and request option parsing.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { HooksRuntime } from "../../src/service/hooks/mod.ts";
import { gitProtocolEnv, parseGitConfigOptions } from "../../src/service/shared/git_options.ts";
import { GrpcError } from "../../src/server/errors.ts";

async function writeHook(path: string, body: string, mode = 0o755): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, mode);
}

/** Runs the installed `hook` as git would, with `input` on stdin. */
async function runHook(
  hooksDir: string,
  hook: string,
  args: string[],
  input: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(join(hooksDir, hook), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("hook script runs repository, .d and global hooks in order with the same input", async () => {
  const root = await Deno.makeTempDir({ prefix: "hooks-test-" });
  const runtime = new HooksRuntime(root);
  try {
    const repo = join(root, "repo.git");
    const global = join(root, "global");
    const log = join(root, "log");
    const record = (name: string) =>
      `printf '${name} %s [%s] %s\\n' "$*" "$(cat)" "$(pwd)" >> '${log}'`;
    await writeHook(join(repo, "custom_hooks", "pre-receive"), record("main"));
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "b"), record("d-b"));
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "a"), record("d-a"));
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "c~"), record("backup"));
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "off"), record("off"), 0o644);
    await Deno.mkdir(join(repo, "custom_hooks", "pre-receive.d", "subdir"));
    await writeHook(join(global, "pre-receive.d", "g"), record("global"));
    await writeHook(join(global, "update.d", "g"), record("global-update"));

    const dir = await runtime.dir();
    const env = { GITALY_HOOKS_REPO_PATH: repo, GITALY_HOOKS_GLOBAL_DIR: global };
    const input = "0 1 refs/heads/main\n0 2 refs/heads/x\n\n";
    const result = await runHook(dir, "pre-receive", [], input, env);
    assertEquals(result.code, 0, result.stderr);
    const recorded = "[0 1 refs/heads/main\n0 2 refs/heads/x]";
    assertEquals(
      await Deno.readTextFile(log),
      [
        `main  ${recorded} ${repo}`,
        `d-a  ${recorded} ${repo}`,
        `d-b  ${recorded} ${repo}`,
        `global  ${recorded} ${repo}`,
      ]
        .join("\n") + "\n",
    );

    await Deno.remove(log);
    const update = await runHook(dir, "update", ["refs/heads/x", "0", "2"], "", env);
    assertEquals(update.code, 0, update.stderr);
    assertEquals(await Deno.readTextFile(log), `global-update refs/heads/x 0 2 [] ${repo}\n`);

    // No global directory configured: only the repository's hooks run.
    await Deno.remove(log);
    await runHook(dir, "update", ["r", "0", "1"], "", { GITALY_HOOKS_REPO_PATH: repo });
    await Deno.stat(log).then(() => assert(false, "no hook should have run"), () => {});
  } finally {
    runtime.closeSync();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hook script stops at the first failing hook and returns its status", async () => {
  const root = await Deno.makeTempDir({ prefix: "hooks-test-" });
  const runtime = new HooksRuntime(root);
  try {
    const repo = join(root, "repo.git");
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "1"), 'echo "nope" >&2; exit 3');
    await writeHook(join(repo, "custom_hooks", "pre-receive.d", "2"), `touch '${root}/ran'`);
    const result = await runHook(await runtime.dir(), "pre-receive", [], "x\n", {
      GITALY_HOOKS_REPO_PATH: repo,
    });
    assertEquals(result.code, 3);
    assertEquals(result.stderr, "nope\n");
    await Deno.stat(join(root, "ran")).then(() => assert(false, "later hook ran"), () => {});
  } finally {
    runtime.closeSync();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hooks directory: created once, executable, removed by closeSync, stale ones pruned", async () => {
  const root = await Deno.makeTempDir({ prefix: "hooks-test-" });
  try {
    const stale = join(root, "gitaly-hooks-999999999-abc");
    await Deno.mkdir(stale);
    const runtime = new HooksRuntime(root);
    const dir = await runtime.dir();
    assertEquals(await runtime.dir(), dir);
    for (const hook of ["pre-receive", "update", "post-receive"]) {
      const info = await Deno.stat(join(dir, hook));
      assertEquals((info.mode ?? 0) & 0o777, 0o755, hook);
    }
    await Deno.stat(stale).then(() => assert(false, "stale directory kept"), () => {});
    runtime.closeSync();
    await Deno.stat(dir).then(() => assert(false, "directory kept"), () => {});
  } finally {
    await Deno.remove(root, { recursive: true });
  }
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
