/**
 * The hook socket with the runtime directory's Perl hooks as its clients:
 * exit statuses, stdout and stderr as the `hooks` subcommand gives them,
 * custom hooks, refusals, pack-objects' output, a killed hook, and the
 * shell fallback where the socket does not answer.
 */
import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";
import { join } from "node:path";
import { HookSocket } from "../../../src/service/hooks/hook_socket.ts";
import { PackObjectsCache } from "../../../src/service/hooks/pack_objects_cache.ts";
import {
  encodeHooksPayload,
  Hook,
  serverHooksPayload,
} from "../../../src/service/hooks/payload.ts";
import { HooksRuntime, perlHookScript } from "../../../src/service/hooks/runtime.ts";
import type { Repository } from "../../../src/proto/types.ts";
import { handlerHarness } from "../../helpers/handler.ts";

const harness = await handlerHarness();
const root = await Deno.makeTempDir({ prefix: "hook-socket-test-" });
const runtime = new HooksRuntime(root);
await runtime.prepare();
const socket = await HookSocket.listen(harness.deps, runtime.hookSocket);
const repo = await harness.createRepo("hooks.git", async (git, path) => {
  const work = `${path}.work`;
  await git("init", "--quiet", "--initial-branch=main", work);
  const inWork = (...args: string[]) =>
    new Deno.Command("git", { args: ["-C", work, ...args], env: identity() }).output();
  await Deno.writeFile(join(work, "big.bin"), randomBytes(8 * 1024 * 1024));
  await Deno.writeTextFile(join(work, "README"), "hello\n");
  await inWork("add", ".");
  await inWork("commit", "--quiet", "-m", "first");
  await git("fetch", "--quiet", work, "main:refs/heads/main");
  await Deno.remove(work, { recursive: true });
});
const repoPath = harness.repoPath(repo);

function identity(): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: "A",
    GIT_AUTHOR_EMAIL: "a@example.com",
    GIT_COMMITTER_NAME: "A",
    GIT_COMMITTER_EMAIL: "a@example.com",
  };
}

function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

function payload(requestedHooks: number, repository: Repository = repo): string {
  return encodeHooksPayload(
    serverHooksPayload(runtime, "", {
      requestedHooks,
      repository: { ...repository, gl_repository: "project-1" },
      userDetails: { username: "alice", userid: "user-1", protocol: "ssh" },
    }),
  );
}

interface HookRun {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

async function runHook(
  hook: string,
  args: string[],
  options: { stdin?: string; payload?: string; dir?: string } = {},
): Promise<HookRun> {
  const child = new Deno.Command(join(options.dir ?? runtime.hooksDir, hook), {
    args,
    cwd: repoPath,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      GITALY_HOOKS_PAYLOAD: options.payload ?? payload(
        Hook.PreReceive | Hook.Update |
          Hook.PostReceive | Hook.ReferenceTransaction | Hook.PackObjects,
      ),
      GIT_PUSH_OPTION_COUNT: "1",
      GIT_PUSH_OPTION_0: "ci.skip",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin ?? ""));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

async function writeCustomHook(name: string, script: string): Promise<void> {
  const dir = join(repoPath, "custom_hooks");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, name), script, { mode: 0o755 });
  await Deno.chmod(join(dir, name), 0o755);
}

Deno.test({
  name: "hook socket: Perl hooks run in the server",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await t.step("reference-transaction without a transaction succeeds silently", async () => {
      const run = await runHook("reference-transaction", ["prepared"], {
        stdin: `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/x\n`,
      });
      assertEquals(run, { code: 0, stdout: new Uint8Array(), stderr: "" });
    });

    await t.step("bad arguments fail as the hooks subcommand words them", async () => {
      const state = await runHook("reference-transaction", ["bogus"]);
      assertEquals(state.code, 1);
      assertEquals(
        state.stderr,
        `reference-transaction: reference-transaction hook has invalid state: "bogus"\n`,
      );
      const update = await runHook("update", ["refs/heads/main"]);
      assertEquals(update.code, 1);
      assertEquals(
        update.stderr,
        `update: update hook expects exactly three arguments, got ["refs/heads/main"]\n`,
      );
      const payloadless = await runHook("pre-receive", [], { payload: "not base64!" });
      assertEquals(payloadless.code, 1);
      assertMatch(payloadless.stderr, /^pre-receive: error when getting hooks payload: /);
    });

    await t.step(
      "a custom pre-receive hook gets stdin, push options, and its exit status",
      async () => {
        await writeCustomHook(
          "pre-receive",
          '#!/bin/sh\ncat\necho "options: $GIT_PUSH_OPTION_COUNT $GIT_PUSH_OPTION_0"\n' +
            "echo refused >&2\nexit 3\n",
        );
        try {
          const changes = `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/x\n`;
          const run = await runHook("pre-receive", [], { stdin: changes });
          assertEquals(run.code, 3, run.stderr);
          assertEquals(new TextDecoder().decode(run.stdout), `${changes}options: 1 ci.skip\n`);
          assertEquals(run.stderr, "refused\n");
        } finally {
          await Deno.remove(join(repoPath, "custom_hooks"), { recursive: true });
        }
      },
    );

    await t.step("a hook the payload did not request succeeds without running", async () => {
      await writeCustomHook("update", "#!/bin/sh\necho ran\nexit 5\n");
      try {
        const skipped = await runHook(
          "update",
          ["refs/heads/main", "0".repeat(40), "1".repeat(40)],
          {
            payload: payload(Hook.PreReceive),
          },
        );
        assertEquals(skipped, { code: 0, stdout: new Uint8Array(), stderr: "" });
        const ran = await runHook("update", ["refs/heads/main", "0".repeat(40), "1".repeat(40)]);
        assertEquals(ran.code, 5, ran.stderr);
        assertEquals(new TextDecoder().decode(ran.stdout), "ran\n");
      } finally {
        await Deno.remove(join(repoPath, "custom_hooks"), { recursive: true });
      }
    });

    await t.step("pack-objects answers with git's pack", async () => {
      const args = ["git", "pack-objects", "--stdout", "--revs", "--delta-base-offset"];
      const run = await runHook("pack-objects", args, { stdin: "refs/heads/main\n\n" });
      assertEquals(run.code, 0, run.stderr);
      assertEquals(new TextDecoder().decode(run.stdout.subarray(0, 4)), "PACK");
      // Two blobs, one tree, one commit.
      assertEquals(new DataView(run.stdout.buffer, run.stdout.byteOffset).getUint32(8), 4);
      assert(run.stdout.byteLength > 8 * 1024 * 1024);
      const bad = await runHook("pack-objects", ["git", "pack-objects", "--revs"]);
      assertEquals(bad.code, 1);
      assertEquals(
        bad.stderr,
        "pack-objects: rpc error: code = InvalidArgument desc = invalid pack-objects command: " +
          "[pack-objects --revs]: missing --stdout\n",
      );
    });

    await t.step("with the cache, hits read the entry's file and get the same pack", async () => {
      const cacheRoot = await Deno.makeTempDir({ dir: root });
      const cache = new PackObjectsCache({
        enabled: true,
        dir: join(cacheRoot, "cache"),
        maxAgeMs: 60_000,
        minOccurrences: 1,
      });
      const cachedRuntime = new HooksRuntime(cacheRoot);
      await cachedRuntime.prepare();
      const cached = await HookSocket.listen(
        { ...harness.deps, packObjectsCache: cache },
        cachedRuntime.hookSocket,
      );
      try {
        const args = ["git", "pack-objects", "--stdout", "--revs", "--delta-base-offset"];
        const run = () =>
          runHook("pack-objects", args, {
            stdin: "refs/heads/main\n\n",
            dir: cachedRuntime.hooksDir,
          });
        const first = await run(); // not cached: a key is cached from its second request on
        const [second, third] = await Promise.all([run(), run()]);
        for (const answer of [first, second, third]) {
          assertEquals(answer.code, 0, answer.stderr);
          assertEquals(answer.stdout.byteLength, first.stdout.byteLength);
          assertEquals(answer.stdout, first.stdout);
        }
      } finally {
        await cached.close();
        await cache.close();
        cachedRuntime.closeSync();
      }
    });

    await t.step("a killed pack-objects hook stops its git", async () => {
      const child = new Deno.Command(join(runtime.hooksDir, "pack-objects"), {
        args: ["git", "pack-objects", "--stdout", "--revs"],
        cwd: repoPath,
        clearEnv: true,
        env: { PATH: Deno.env.get("PATH") ?? "", GITALY_HOOKS_PAYLOAD: payload(Hook.PackObjects) },
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("refs/heads/main\n\n"));
      await writer.close();
      const reader = child.stdout.getReader();
      await reader.read(); // the pack started
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel();
      const deadline = Date.now() + 10_000;
      while (harness.deps.git.liveCount() > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assertEquals(harness.deps.git.liveCount(), 0);
    });

    await t.step("without the socket, the Perl hook execs the fallback", async () => {
      const dir = await Deno.makeTempDir({ dir: root });
      await Deno.mkdir(join(dir, "hooks"));
      await Deno.mkdir(join(dir, "fallback"));
      await Deno.writeTextFile(
        join(dir, "hooks", "update"),
        perlHookScript("/usr/bin/env perl", join(dir, "missing.sock"), join(dir, "fallback")),
        { mode: 0o755 },
      );
      await Deno.writeTextFile(
        join(dir, "fallback", "update"),
        '#!/bin/sh\necho "fallback ${0##*/} $*"\nexit 4\n',
        { mode: 0o755 },
      );
      const run = await runHook("update", ["a", "b", "c"], { dir: join(dir, "hooks") });
      assertEquals(run.code, 4);
      assertEquals(new TextDecoder().decode(run.stdout), "fallback update a b c\n");
    });
  },
});

Deno.test({
  name: "hook socket: cleanup",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await socket.close();
    runtime.closeSync();
    await harness.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  },
});
