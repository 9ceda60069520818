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
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/** Whether the reference script is installed here. */
export async function referenceAvailable(): Promise<boolean> {
  return await Deno.stat(SCRIPT).then((s) => s.isFile, () => false);
}

/**
 * Starts the reference in a fresh directory under /tmp (its path must stay
 * short); with `extraToml`, restarted with that appended to its config.
 */
export async function startReference(extraToml = ""): Promise<ReferenceGitaly> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ref-bench-" });
  await script("start", dir);
  try {
    if (extraToml) await restartReference(dir, extraToml);
    const env = parseEnv(await script("env", dir));
    const address = env.get("GITALY_ADDRESS");
    if (!address) throw new Error("refgitaly env printed no GITALY_ADDRESS");
    const pid = Number((await Deno.readTextFile(join(dir, "gitaly.pid"))).trim());
    const git = env.get("REF_GIT");
    if (!git) throw new Error("refgitaly env printed no REF_GIT");
    return {
      dir,
      address,
      storagePath: join(dir, "repositories"),
      pid,
      git,
      stop: async () => {
        await script("stop", dir).catch(() => "");
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await script("stop", dir).catch(() => "");
    throw error;
  }
}

async function script(command: string, dir: string): Promise<string> {
  const out = await new Deno.Command(SCRIPT, {
    args: [command, dir],
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
