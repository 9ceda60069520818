/**
 * The server's own hooks directory: a private temp directory holding
 * {@link HOOK_SCRIPT} under each forwarded hook's name, created on first
 * use and removed when the process exits. Directories left behind by a
 * server that was killed are pruned the next time one is created.
 *
 * @module
 */
import { join } from "node:path";
import { FORWARDED_HOOKS, HOOK_SCRIPT } from "./script.ts";

/** Temp directory names: the prefix, then the owning process id. */
const DIR_PREFIX = "gitaly-hooks-";

/** Creates the hooks directory lazily and removes it at exit. */
export class HooksRuntime {
  #dir?: Promise<string>;
  #created?: string;
  #onUnload = () => this.closeSync();

  /** `tempRoot`: where to create the directory (default: the system temp dir). */
  constructor(readonly tempRoot?: string) {}

  /** The directory to pass as `core.hooksPath`; written on the first call. */
  dir(): Promise<string> {
    this.#dir ??= this.#create();
    this.#dir.catch(() => {
      this.#dir = undefined; // try again on the next push
    });
    return this.#dir;
  }

  /** Removes the directory (idempotent); runs automatically when the process exits. */
  closeSync(): void {
    globalThis.removeEventListener("unload", this.#onUnload);
    const dir = this.#created;
    this.#created = undefined;
    this.#dir = undefined;
    if (dir) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    }
  }

  async #create(): Promise<string> {
    await pruneStaleDirs(this.tempRoot);
    const dir = await Deno.makeTempDir({ dir: this.tempRoot, prefix: `${DIR_PREFIX}${Deno.pid}-` });
    this.#created = dir;
    globalThis.addEventListener("unload", this.#onUnload);
    for (const hook of FORWARDED_HOOKS) {
      await Deno.writeTextFile(join(dir, hook), HOOK_SCRIPT, { mode: 0o755 });
      await Deno.chmod(join(dir, hook), 0o755); // the umask may have removed bits
    }
    return dir;
  }
}

/** Removes hooks directories whose owning process no longer exists. */
async function pruneStaleDirs(tempRoot: string | undefined): Promise<void> {
  const root = tempRoot ?? tempDirectory();
  let entries: AsyncIterable<Deno.DirEntry>;
  try {
    entries = Deno.readDir(root);
    for await (const entry of entries) {
      const pid = ownerPid(entry.name);
      if (!entry.isDirectory || pid === undefined || pid === Deno.pid || processExists(pid)) {
        continue;
      }
      await Deno.remove(join(root, entry.name), { recursive: true }).catch(() => {});
    }
  } catch {
    // An unreadable temp root only means nothing gets pruned.
  }
}

function ownerPid(name: string): number | undefined {
  const match = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
  return match ? Number(match[1]) : undefined;
}

function processExists(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (error) {
    // Without /proc we cannot tell; keep the directory.
    return !(error instanceof Deno.errors.NotFound) || !procAvailable();
  }
}

function procAvailable(): boolean {
  try {
    Deno.statSync("/proc/self");
    return true;
  } catch {
    return false;
  }
}

function tempDirectory(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}
