/**
 * The server's runtime directory: a private directory (under `runtime_dir`
 * when configured, else the system temp dir) holding the hook scripts git
 * runs during a push (`hooks/<name>`, passed as `core.hooksPath`) and the
 * internal socket those hooks call back on (`internal.sock`). Each script
 * execs our own binary's `hooks` subcommand with the same Deno executable
 * and `main.ts` the server runs with (or the compiled binary itself).
 * Removed when the server stops or the process exits; directories left
 * behind by a server that was killed are pruned when the next one starts.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gitalySshRuntimeEnv, isCompiledBinary, shellQuote } from "../remote/gitaly_ssh_command.ts";

/** The hooks git runs during a push, each forwarded to the HookService. */
export const HOOK_NAMES = [
  "pre-receive",
  "update",
  "post-receive",
  "reference-transaction",
] as const;

/** Directory names: the prefix, then the owning process id. */
const DIR_PREFIX = "gitaly-hooks-";

/** Our entry point, for `deno run`. */
const MAIN_TS = new URL("../../../main.ts", import.meta.url);

/** The command line that runs the `hooks` subcommand (git's hook name and arguments follow). */
export function hooksCommandLine(): string {
  const exec = Deno.execPath();
  const argv = isCompiledBinary()
    ? [exec, "hooks"]
    : [exec, "run", "--allow-all", "--no-prompt", fileURLToPath(MAIN_TS), "hooks"];
  return argv.map(shellQuote).join(" ");
}

/**
 * One script serves every hook and learns which from the name git ran it
 * under. It restores what Deno needs (git's environment is a clean one).
 * Two hooks that would do nothing skip starting the subcommand (git runs
 * them per ref, so this is what makes large pushes fast): update when no
 * custom update hook can exist (git runs hooks inside the repository) and
 * there is no transaction to synchronize with, and
 * reference-transaction when the payload carries no transaction to vote
 * on or git reports an aborted transaction (which never votes). The
 * HookService would answer all of these with success.
 */
export function hookScript(
  customHooksDir: string | undefined,
  commandLine: string = hooksCommandLine(),
): string {
  const exports = Object.entries(gitalySshRuntimeEnv())
    .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`).join("");
  const global = customHooksDir ? ` || [ -e ${shellQuote(`${customHooksDir}/update.d`)} ]` : "";
  return `#!/bin/sh\n# Written by the Gitaly server; removed when it stops.\n${exports}` +
    `untransacted() {\n` +
    `  printf %s "$GITALY_HOOKS_PAYLOAD" | base64 -d 2>/dev/null | grep -q '"transaction":null'\n` +
    `}\n` +
    `case "\${0##*/}" in\n` +
    `update)\n` +
    `  [ -e custom_hooks/update ] || [ -e custom_hooks/update.d ]${global} || ! untransacted ||` +
    ` exit 0 ;;\n` +
    `reference-transaction)\n` +
    `  if [ "$1" = aborted ] || untransacted; then\n` +
    `    cat >/dev/null\n    exit 0\n  fi ;;\n` +
    `esac\n` +
    `exec ${commandLine} "\${0##*/}" "$@"\n`;
}

/** Creates the runtime directory and removes it at exit. */
export class HooksRuntime {
  #dir?: string;
  #onUnload = () => this.closeSync();

  /**
   * `root`: where to create the directory (default: the system temp dir);
   * `customHooksDir`: the global custom hooks (`[hooks] custom_hooks_dir`).
   */
  constructor(readonly root?: string, readonly customHooksDir?: string) {}

  /** Creates the directory and writes the hook scripts; idempotent. */
  async prepare(): Promise<void> {
    if (this.#dir) return;
    const root = this.root ?? tempDirectory();
    await Deno.mkdir(root, { recursive: true });
    await pruneStaleDirs(root);
    const dir = await Deno.makeTempDir({ dir: root, prefix: `${DIR_PREFIX}${Deno.pid}-` });
    this.#dir = dir;
    globalThis.addEventListener("unload", this.#onUnload);
    await Deno.mkdir(join(dir, "hooks"));
    const script = hookScript(this.customHooksDir);
    for (const hook of HOOK_NAMES) {
      const path = join(dir, "hooks", hook);
      await Deno.writeTextFile(path, script, { mode: 0o755 });
      await Deno.chmod(path, 0o755); // the umask may have removed bits
    }
  }

  /** The runtime directory itself. */
  get dir(): string {
    if (!this.#dir) throw new Error("hooks runtime not prepared");
    return this.#dir;
  }

  /** The directory to pass as `core.hooksPath`. */
  get hooksDir(): string {
    return join(this.dir, "hooks");
  }

  /** The Unix socket the server listens on for its own hooks. */
  get internalSocket(): string {
    return join(this.dir, "internal.sock");
  }

  /** Removes the directory (idempotent); runs automatically when the process exits. */
  closeSync(): void {
    globalThis.removeEventListener("unload", this.#onUnload);
    const dir = this.#dir;
    this.#dir = undefined;
    if (dir) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    }
  }
}

/** Removes runtime directories whose owning process no longer exists. */
async function pruneStaleDirs(root: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(root)) {
      const pid = ownerPid(entry.name);
      if (!entry.isDirectory || pid === undefined || pid === Deno.pid || processExists(pid)) {
        continue;
      }
      await Deno.remove(join(root, entry.name), { recursive: true }).catch(() => {});
    }
  } catch {
    // An unreadable root only means nothing gets pruned.
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
