/**
 * The reference Gitaly 16.7 for side-by-side benchmarks: started with
 * `refgitaly start DIR` in a temp dir of its own, stopped (only that one)
 * afterwards. Where the script lives comes from `REFGITALY` (default
 * `/work/shared/reference/refgitaly`); without it the reference columns are
 * left out.
 *
 * @module
 */
import { join } from "node:path";
import { restartReference } from "../differential/harness.ts";

const SCRIPT = Deno.env.get("REFGITALY") ?? "/work/shared/reference/refgitaly";

/** A running reference Gitaly. */
export interface ReferenceGitaly {
  /** Its directory (config, log, pid file). */
  dir: string;
  /** `unix:…` address of its socket. */
  address: string;
  /** Where the storage `default` lives. */
  storagePath: string;
  /** The gitaly server process (git's children are other processes). */
  pid: number;
  /** The git it runs (its bundled git 2.42). */
  git: string;
  /** SIGKILLs the server (its storage stays) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same directory, storage and socket (after {@link kill}). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/** Whether the reference script is installed here. */
export async function referenceAvailable(): Promise<boolean> {
  return await Deno.stat(SCRIPT).then((s) => s.isFile, () => false);
}

/** How {@link startReference} configures the reference. */
export interface ReferenceOptions {
  /** The storage's name (default `default`). */
  storageName?: string;
  /** `[auth] token`. */
  token?: string;
  /** TOML appended to the config `refgitaly` wrote (the server is restarted with it). */
  extraToml?: string;
}

/** Starts the reference in a fresh directory under /tmp (its path must stay short). */
export async function startReference(options: ReferenceOptions = {}): Promise<ReferenceGitaly> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ref-bench-" });
  const env: Record<string, string> = {};
  if (options.storageName) env.REF_STORAGE_NAME = options.storageName;
  if (options.token) env.REF_TOKEN = options.token;
  await script("start", dir, env);
  try {
    if (options.extraToml) await restartReference(dir, options.extraToml);
    const printed = parseEnv(await script("env", dir));
    const address = printed.get("GITALY_ADDRESS");
    if (!address) throw new Error("refgitaly env printed no GITALY_ADDRESS");
    const git = printed.get("REF_GIT");
    if (!git) throw new Error("refgitaly env printed no REF_GIT");
    const reference: ReferenceGitaly = {
      dir,
      address,
      storagePath: join(dir, "repositories"),
      pid: await readPid(dir),
      git,
      kill: async () => {
        try {
          Deno.kill(reference.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
        while (await alive(reference.pid)) await new Promise((r) => setTimeout(r, 20));
      },
      restart: async () => {
        await script("start", dir, env);
        reference.pid = await readPid(dir);
      },
      stop: async () => {
        await script("stop", dir).catch(() => "");
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
    return reference;
  } catch (error) {
    await script("stop", dir).catch(() => "");
    throw error;
  }
}

/** Whether `pid` runs (a zombie waiting for its reaper does not). */
async function alive(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

async function readPid(dir: string): Promise<number> {
  return Number((await Deno.readTextFile(join(dir, "gitaly.pid"))).trim());
}

async function script(
  command: string,
  dir: string,
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(SCRIPT, {
    args: [command, dir],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`refgitaly ${command} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `export NAME='value'` (or `NAME=value`) lines → a map. */
function parseEnv(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^(?:export\s+)?([A-Z_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    env.set(match[1], match[2].replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1"));
  }
  return env;
}

/**
 * CPU seconds (user + system) the process itself has used so far: fields
 * 14 and 15 of /proc/PID/stat, which leave out its children (git).
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name (field 2) may contain spaces; fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // fields 14, 15 overall
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: 100 on Linux x86-64. */
const CLOCK_TICKS = 100;
