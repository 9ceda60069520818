/**
 * How this server runs its own `gitaly-ssh` (for git's `GIT_SSH_COMMAND`):
 * a compiled binary runs itself with the `gitaly-ssh` subcommand; under
 * `deno run` the same Deno executable runs the gitaly-ssh module directly
 * as its entry point, which skips loading the server's code and starts
 * about twice as fast as `main.ts gitaly-ssh`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The gitaly-ssh module, run as an entry point under `deno run`. */
const GITALY_SSH_MODULE = new URL("../../cli/gitaly_ssh.ts", import.meta.url);

/**
 * Variables a child Deno needs to find its module and npm caches and trust
 * the same certificates; git's clean environment would drop them.
 */
const DENO_ENV_VARS = [
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "NPM_CONFIG_REGISTRY",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];

/** Whether this process is a `deno compile`d binary (its modules live in a virtual directory). */
export function isCompiledBinary(moduleUrl: string = import.meta.url): boolean {
  return moduleUrl.includes("/deno-compile-");
}

/**
 * The shell command line that runs gitaly-ssh with `subcommand`
 * (`upload-pack`, …); git appends the host and its own command.
 */
export function gitalySshCommandLine(subcommand: string): string {
  const exec = Deno.execPath();
  const argv = isCompiledBinary()
    ? [exec, "gitaly-ssh", subcommand]
    : [exec, "run", "--allow-all", "--no-prompt", fileURLToPath(GITALY_SSH_MODULE), subcommand];
  return argv.map(shellQuote).join(" ");
}

/** Environment the gitaly-ssh child needs besides the GITALY_* call variables. */
export function gitalySshRuntimeEnv(): Record<string, string> {
  const env: Record<string, string> = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  for (const name of DENO_ENV_VARS) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Single-quotes a word for `sh` (git runs GIT_SSH_COMMAND through the shell). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
