import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../helpers/assert.ts";
import {
  GitCommandError,
  GitKilledError,
  GitOutputLimitError,
  GitRunner,
} from "../../src/git/command.ts";
import { inheritedEnv } from "../../src/git/env.ts";
import {
  bytesEqual,
  concat,
  isAlive,
  patternBytes,
  readAll,
  readLineMatching,
  testRunner,
  withTempDir,
} from "./helpers.ts";

const decoder = new TextDecoder();

/** Per-call config defining a shell alias `t` running `script`. */
function shellAlias(script: string) {
  return { config: [{ key: "alias.t", value: `!${script}` }], args: ["t"] };
}

Deno.test("run reports exit codes, stdout and stderr", async () => {
  const runner = testRunner();
  const ok = await runner.run({ args: ["version"] });
  assertEquals(ok.code, 0);
  assertMatch(decoder.decode(ok.stdout), /^git version \d+\.\d+/);

  await withTempDir(async (dir) => {
    await runner.runOk({ args: ["init", "--bare", "--quiet", dir] });
    const failed = await runner.run({ gitDir: dir, args: ["rev-parse", "--verify", "refs/nope"] });
    assertEquals(failed.code, 128);
    assertMatch(failed.stderr, /fatal: Needed a single revision/);
    await assertRejects(
      runner.runOk({ gitDir: dir, args: ["rev-parse", "--verify", "refs/nope"] }),
      (error: unknown) => {
        assert(error instanceof GitCommandError);
        assertEquals(error.code, 128);
        assertEquals(error.args, ["rev-parse", "--verify", "refs/nope"]);
        assertMatch(error.stderr, /Needed a single revision/);
        return true;
      },
    );
  });
  assertEquals(runner.liveCount(), 0);
});

Deno.test("the environment is clean and per-call env is added", async () => {
  Deno.env.set("GIT_RUNNER_TEST_LEAK", "secret");
  try {
    const runner = new GitRunner();
    const result = await runner.runOk({ ...shellAlias("env"), env: { EXTRA_VAR: "yes" } });
    const env = new Map(
      decoder.decode(result.stdout).trim().split("\n").map((line) => {
        const eq = line.indexOf("=");
        return [line.slice(0, eq), line.slice(eq + 1)] as [string, string];
      }),
    );
    assertEquals(env.has("GIT_RUNNER_TEST_LEAK"), false);
    assertEquals(env.get("GIT_TERMINAL_PROMPT"), "0");
    assertEquals(env.get("GIT_CONFIG_NOSYSTEM"), "1");
    assertEquals(env.get("GIT_CONFIG_GLOBAL"), "/dev/null");
    assertEquals(env.get("LANG"), "C");
    assertEquals(env.get("EXTRA_VAR"), "yes");
    assert(env.get("PATH")!.endsWith(Deno.env.get("PATH")!), "PATH is inherited");
  } finally {
    Deno.env.delete("GIT_RUNNER_TEST_LEAK");
  }
});

Deno.test("user config is ignored; runner and per-call -c apply in order", async () => {
  await withTempDir(async (home) => {
    await Deno.writeTextFile(`${home}/.gitconfig`, "[user]\n\tname = Leaked\n");
    const env = { ...inheritedEnv(), HOME: home };
    const plain = new GitRunner({ inheritedEnv: env });
    const missing = await plain.run({ args: ["config", "user.name"] });
    assertEquals(missing.code, 1, "~/.gitconfig must not be read");

    const configured = new GitRunner({
      inheritedEnv: env,
      config: [{ key: "user.name", value: "Runner" }],
    });
    assertEquals(await configured.runText({ args: ["config", "user.name"] }), "Runner");
    const overridden = await configured.runText({
      args: ["config", "user.name"],
      config: [{ key: "user.name", value: "Call" }],
    });
    assertEquals(overridden, "Call");
  });
});

Deno.test("a 50 MiB stdin stream goes through git hash-object", async () => {
  const runner = testRunner();
  const block = patternBytes(1024 * 1024, 3);
  const blocks = 50;
  await withTempDir(async (dir) => {
    // The reference hash comes from git reading the same bytes from a file.
    const file = await Deno.open(`${dir}/data`, { write: true, create: true });
    for (let i = 0; i < blocks; i++) await file.write(block);
    file.close();
    const expected = await runner.runText({ args: ["hash-object", `${dir}/data`] });

    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === blocks) return controller.close();
        sent++;
        controller.enqueue(block.slice());
      },
    }, { highWaterMark: 0 });
    const oid = await runner.runText({ args: ["hash-object", "--stdin"], stdin: source });
    assertEquals(oid, expected);
    assertEquals(sent, blocks);
  });
});

Deno.test("stdin respects backpressure when git stops reading", async () => {
  const runner = testRunner();
  const limit = 1024 * 1024;
  let produced = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      produced += 64 * 1024;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  }, { highWaterMark: 0 });
  const git = runner.spawn({
    ...shellAlias(`head -c ${limit} >/dev/null; echo ready; exec sleep 600`),
    stdin: source,
  });
  const reader = git.stdout.getReader();
  await readLineMatching(reader, (line) => line === "ready");
  // Give the pump every chance to run ahead; it must stay bounded by the pipe.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert(produced <= limit + 2 * 1024 * 1024, `produced ${produced} bytes`);
  reader.releaseLock();
  git.kill();
  await git.stdout.cancel().catch(() => {});
  const exit = await git.wait();
  assertEquals(exit.signal, "SIGKILL");
});

Deno.test("a failing stdin source kills git", async () => {
  const runner = testRunner();
  let calls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (calls++ === 0) controller.enqueue(new Uint8Array(10));
      else controller.error(new Error("client went away"));
    },
  });
  const git = runner.spawn({ args: ["hash-object", "--stdin"], stdin: source });
  await readAll(git.stdout).catch(() => {});
  const exit = await git.wait();
  assertEquals(exit.killReason, "stdin-error");
  assert(exit.code !== 0);
});

Deno.test("abort sends SIGTERM to the process group and errors stdout", async () => {
  const runner = testRunner();
  const abort = new AbortController();
  const git = runner.spawn({ ...shellAlias("echo $$; sleep 600"), signal: abort.signal });
  const reader = git.stdout.getReader();
  const shellPid = Number(await readLineMatching(reader, (line) => /^\d+$/.test(line)));
  assert(await isAlive(git.pid));
  assert(await isAlive(shellPid));
  const reading = reader.read();
  abort.abort(new Error("client cancelled"));
  await assertRejects(reading, /client cancelled/);
  const exit = await git.wait();
  assertEquals(exit.killReason, "abort");
  assert(exit.signal === "SIGTERM" || exit.signal === "SIGKILL", `signal ${exit.signal}`);
  assertEquals(await isAlive(git.pid), false, "git is gone");
  if (runner.processGroup) assertEquals(await isAlive(shellPid), false, "its child is gone");
  assertEquals(runner.liveCount(), 0);
});

Deno.test("an already aborted signal refuses to spawn", () => {
  const runner = testRunner();
  const abort = new AbortController();
  abort.abort(new Error("too late"));
  assertThrows(() => runner.spawn({ args: ["version"], signal: abort.signal }), /too late/);
  assertEquals(runner.liveCount(), 0);
});

Deno.test("cancelling stdout kills the process", async () => {
  const runner = testRunner();
  const git = runner.spawn(shellAlias("yes"));
  const reader = git.stdout.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(4096));
  assert(value && value.byteLength > 0);
  await reader.cancel();
  const exit = await git.wait();
  assertEquals(exit.killReason, "cancel");
  assertEquals(exit.signal, "SIGKILL");
  assertEquals(await isAlive(git.pid), false);
});

Deno.test("kill() errors stdout with GitKilledError", async () => {
  const runner = testRunner();
  const git = runner.spawn(shellAlias("sleep 600"));
  const reading = git.stdout.getReader().read();
  git.kill();
  await assertRejects(reading, GitKilledError);
  assertEquals((await git.wait()).killReason, "kill");
});

Deno.test("killAll kills every live child", async () => {
  const runner = testRunner();
  const children = [1, 2, 3].map(() => runner.spawn(shellAlias("sleep 600")));
  assertEquals(runner.liveCount(), 3);
  await runner.killAll();
  assertEquals(runner.liveCount(), 0);
  for (const git of children) {
    assertEquals((await git.wait()).killReason, "shutdown");
    assertEquals(await isAlive(git.pid), false);
  }
});

Deno.test("run kills git past maxStdout", async () => {
  const runner = testRunner();
  await assertRejects(
    runner.run({ ...shellAlias("yes"), maxStdout: 100_000 }),
    GitOutputLimitError,
  );
  assertEquals(runner.liveCount(), 0);
});

Deno.test("stderr keeps the tail and streams to onStderr", async () => {
  const runner = testRunner();
  const seen: Uint8Array[] = [];
  const git = runner.spawn({
    ...shellAlias('i=0; while [ $i -lt 500 ]; do echo "line $i" >&2; i=$((i+1)); done'),
    stderrLimit: 100,
    onStderr: (chunk) => {
      seen.push(chunk);
    },
  });
  await readAll(git.stdout);
  const exit = await git.wait();
  assertEquals(exit.code, 0);
  assert(exit.stderr.length <= 100);
  assert(exit.stderr.endsWith("line 499\n"), exit.stderr);
  const all = decoder.decode(concat(seen));
  assert(all.startsWith("line 0\n"));
  assertEquals(exit.stderrDropped, all.length - exit.stderr.length);
});

Deno.test("stdout supports BYOB and default readers byte-exactly", async () => {
  const runner = testRunner();
  const payload = patternBytes(3 * 1024 * 1024 + 17, 5);
  await withTempDir(async (dir) => {
    await runner.runOk({ args: ["init", "--bare", "--quiet", dir] });
    const oid = await runner.runText({
      gitDir: dir,
      args: ["hash-object", "-w", "--stdin"],
      stdin: payload,
    });
    const viaDefault = await readAll(
      runner.spawn({ gitDir: dir, args: ["cat-file", "blob", oid] }).stdout,
    );
    assert(bytesEqual(viaDefault, payload));

    const git = runner.spawn({ gitDir: dir, args: ["cat-file", "blob", oid] });
    const reader = git.stdout.getReader({ mode: "byob" });
    let buffer = new Uint8Array(1 << 20);
    const chunks: Uint8Array[] = [];
    while (true) {
      const { value, done } = await reader.read(buffer);
      if (done) break;
      chunks.push(value.slice());
      buffer = new Uint8Array(value.buffer);
    }
    assert(bytesEqual(concat(chunks), payload));
    assertEquals((await git.wait()).code, 0);
  });
});

Deno.test("version is parsed once; onSpawn sees subcommands; bad args are refused", async () => {
  const spawned: string[] = [];
  const runner = testRunner({ onSpawn: (subcommand) => spawned.push(subcommand) });
  const version = await runner.version();
  assertMatch(version, /^\d+\.\d+/);
  assertEquals(await runner.version(), version);
  assertEquals(spawned, ["version"]);
  assertThrows(() => runner.spawn({ args: ["--exec-path=/tmp", "version"] }), TypeError);
  assertThrows(() => runner.spawn({ args: [] }), TypeError);
  assertThrows(
    () => runner.spawn({ args: ["version"], config: [{ key: "a=b", value: "c" }] }),
    TypeError,
  );
});

Deno.test("works without process groups", async () => {
  const runner = testRunner({ processGroup: false });
  assertEquals(runner.processGroup, false);
  assertMatch(await runner.runText({ args: ["version"] }), /^git version/);
  // git waits for stdin that never comes (no helper processes involved).
  const git = runner.spawn({
    args: ["hash-object", "--stdin"],
    stdin: new ReadableStream({ pull: () => new Promise(() => {}) }),
  });
  git.kill();
  await git.stdout.cancel().catch(() => {});
  assertEquals((await git.wait()).signal, "SIGKILL");
});

/**
 * Runs git with a background helper (a shell running `trap`, its pid on stdout, then
 * a loop), aborts, and returns git's exit and the helper's pid.
 */
async function abortWithHelper(runner: GitRunner, dir: string, trap: string) {
  const helper = `${dir}/helper.sh`;
  await Deno.writeTextFile(helper, `${trap}\necho $$\nwhile :; do sleep 0.05; done\n`);
  const abort = new AbortController();
  const git = runner.spawn({ ...shellAlias(`sh ${helper} & wait`), signal: abort.signal });
  const reader = git.stdout.getReader();
  const helperPid = Number(await readLineMatching(reader, (line) => /^\d+$/.test(line)));
  const reading = reader.read().catch(() => {});
  abort.abort(new Error("client cancelled"));
  await reading;
  return { exit: await git.wait(), helperPid };
}

Deno.test("a killed group's helpers finish their cleanup before wait() resolves", async () => {
  await withTempDir(async (dir) => {
    const runner = testRunner({ killGraceMs: 2000 });
    if (!runner.processGroup) return;
    // The helper outlives git by a moment, as a multi-pack-index writer removing its
    // lock does.
    const marker = `${dir}/cleaned`;
    const { exit, helperPid } = await abortWithHelper(
      runner,
      dir,
      `trap 'sleep 0.3; echo done > ${marker}; exit 0' TERM`,
    );
    assertEquals(exit.killReason, "abort");
    assertEquals(await Deno.readTextFile(marker), "done\n");
    assertEquals(await isAlive(helperPid), false);
  });
});

Deno.test("a killed group's helper that ignores SIGTERM gets SIGKILL after the grace period", async () => {
  await withTempDir(async (dir) => {
    const runner = testRunner({ killGraceMs: 200 });
    if (!runner.processGroup) return;
    const { helperPid } = await abortWithHelper(runner, dir, "trap '' TERM");
    assertEquals(await isAlive(helperPid), false);
    assertEquals(runner.liveCount(), 0);
  });
});
