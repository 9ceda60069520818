/**
 * The README's quick start, started exactly as written
 * (`npx --yes deno@2.9.6 task serve` in a checkout, on the embedded default
 * config), stops cleanly however it is told to: SIGINT or SIGTERM to the npx
 * process alone or to its whole process group (a terminal's Ctrl-C), or the
 * npx process dying, but not on being stopped and continued. Each time
 * with a call in flight, which must finish during the drain; then the
 * `stopped` line, no socket, no process left.
 *
 * The checkout is a temp copy whose embedded default listens on TCP port 0
 * instead of 9999/9236, so that parallel runs never collide; nothing else
 * differs. npx runs in a process group of its own (`setsid`), as a shell's
 * job control would put it.
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { gitOk } from "../helpers/gitrepo.ts";
import { dial } from "../../src/client/dial.ts";
import { sshService } from "../../src/client/services.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const COMMAND = ["npx", "--yes", "deno@2.9.6", "task", "serve"];
const decoder = new TextDecoder();

const missing = ["npx", "setsid"].filter((tool) =>
  !new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync()
    .success
);

/** A copy of the checkout with the embedded default's TCP ports set to 0. */
async function quickStartCheckout(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "quick-start-" });
  for (const name of ["deno.json", "deno.lock", "main.ts"]) {
    await Deno.copyFile(join(ROOT, name), join(dir, name));
  }
  await copyTree(join(ROOT, "src"), join(dir, "src"));
  const config = join(dir, "src/server/config.ts");
  const text = await Deno.readTextFile(config);
  const patched = text.replace(`"127.0.0.1:9999"`, `"127.0.0.1:0"`)
    .replace(`"127.0.0.1:9236"`, `"127.0.0.1:0"`);
  assertEquals(patched.match(/"127\.0\.0\.1:0"/g)?.length, 2, "embedded default's ports");
  await Deno.writeTextFile(config, patched);
  return dir;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyTree(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile) await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

/** The pids whose process group is `pgid` (from /proc). */
function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") pids.push(Number(entry.name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function eventually(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How a case stops the quick start; `pauseFirst`: SIGSTOP and SIGCONT the group before. */
type Stop = { signal: Deno.Signal; to: "npx" | "group"; pauseFirst?: boolean };

/** Starts the quick start in `dir`, opens a call, stops it with `stop`, checks it all. */
async function stopsCleanly(dir: string, stop: Stop): Promise<void> {
  const child = new Deno.Command("setsid", {
    args: COMMAND,
    cwd: dir,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const npx = child.pid;
  let stdout = "";
  let stderr = "";
  const read = (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) =>
    (async () => {
      for await (const chunk of stream) onText(decoder.decode(chunk));
    })();
  const outputDone = Promise.all([
    read(child.stdout, (t) => stdout += t),
    read(child.stderr, (t) => stderr += t),
  ]);
  const socket = join(dir, "data/gitaly.socket");
  const conn = dial(`unix:${socket}`);
  try {
    await eventually(`SERVING\n${stderr}`, () => stdout.includes("SERVING\n"), 60_000);
    const repo = join(dir, "data/repositories/r.git");
    await Deno.stat(repo).catch(() => gitOk(["init", "--bare", "-q", repo]));

    // A call that stays open until we send its end: upload-pack waits for the client.
    const call = sshService(conn).sshUploadPack();
    await call.write({ repository: { storage_name: "default", relative_path: "r.git" } });
    const responses = call[Symbol.asyncIterator]();
    assert((await responses.next()).value?.stdout?.length, "the ref advertisement");

    if (stop.pauseFirst) {
      // Being stopped and continued (Ctrl-Z, fg) is no reason to stop.
      Deno.kill(-npx, "SIGSTOP");
      await new Promise((r) => setTimeout(r, 100));
      Deno.kill(-npx, "SIGCONT");
      await new Promise((r) => setTimeout(r, 1000));
      assert(!stderr.includes("shutting down"), stderr);
    }
    Deno.kill(stop.to === "npx" ? npx : -npx, stop.signal);
    await eventually(`the drain\n${stderr}`, () => stderr.includes("shutting down"));
    assertMatch(stderr, /msg="shutting down" .*in_flight=1/);
    // The call in flight is still served: finish it and get git's exit status.
    await call.write({ stdin: new TextEncoder().encode("0000") });
    call.end();
    let exitStatus: number | undefined;
    for (let r = await responses.next(); !r.done; r = await responses.next()) {
      if (r.value.exit_status) exitStatus = r.value.exit_status.value;
    }
    assertEquals(exitStatus ?? 0, 0);

    await eventually(
      `every process of the group to exit:\n${stderr}`,
      () => processGroup(npx).length === 0,
    );
    await outputDone;
    assertMatch(stderr, /msg=stopped aborted_calls=0/);
    assertEquals(await Deno.stat(socket).then(() => true, () => false), false, "socket left");
  } finally {
    conn.close();
    for (const pid of processGroup(npx)) Deno.kill(pid, "SIGKILL");
    await child.status;
  }
}

Deno.test({
  name: "quick start: stops cleanly on SIGINT/SIGTERM to npx or its group, or when npx dies",
  ignore: missing.length > 0,
  async fn() {
    const dir = await quickStartCheckout();
    try {
      const cases: Stop[] = [
        { signal: "SIGINT", to: "npx", pauseFirst: true },
        { signal: "SIGTERM", to: "npx" },
        { signal: "SIGINT", to: "group" },
        { signal: "SIGTERM", to: "group" },
        { signal: "SIGKILL", to: "npx" },
      ];
      for (const stop of cases) {
        await stopsCleanly(dir, stop).catch((error) => {
          throw new Error(`${stop.signal} to ${stop.to}: ${error.message}`, { cause: error });
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (missing.length) console.log(`quick start test skipped: ${missing.join(", ")} not found`);
