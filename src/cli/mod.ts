/**
 * Subcommand dispatch. Each subcommand returns its exit code; usage errors
 * print the usage to stderr and exit 2.
 *
 * @module
 */
import { GITALY_COMPAT_VERSION, VERSION } from "../version.ts";
import { UsageError } from "./usage.ts";

/** The usage text shown by `help` and on usage errors. */
export const USAGE = `Usage: deno-gitaly <command> [options]

Commands:
  serve [--config FILE | FILE]   run the server (embedded default config when no file)
  FILE                           same as: serve FILE (a bare config path, as with Gitaly)
  check [--config FILE | FILE]   check that the configured GitLab internal API is reachable
  gitaly-ssh CMD HOST ARGS…      git's GIT_SSH_COMMAND for Gitaly (environment: GITALY_*)
  hooks HOOK ARGS…               git's hooks during a push (run by the server's hook scripts)
  client [options] COMMAND       call a Gitaly server (call, health, repo); client --help
  backup create|restore --path DIR [options] < repos.jsonl
                                 back up or restore repositories (JSON lines on stdin) into
                                 or from a local directory, as gitaly-backup does
  version                        print the version
  help                           print this help
`;

type Command = (args: string[]) => Promise<number>;

// Subcommands load lazily: gitaly-ssh runs once per git invocation and
// should not pay for loading the whole server.
const serveCommand: Command = (args) => import("./serve.ts").then((m) => m.serveCommand(args));

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  "gitaly-ssh": (args) => import("./gitaly_ssh.ts").then((m) => m.gitalySshCommand(args)),
  check: (args) => import("./check.ts").then((m) => m.checkCommand(args)),
  hooks: (args) => import("./hooks.ts").then((m) => m.hooksCommand(args)),
  client: (args) => import("./client.ts").then((m) => m.clientCommand(args)),
  backup: (args) => import("./backup.ts").then((m) => m.backupCommand(args)),
  version: versionCommand,
  help: helpCommand,
  "--help": helpCommand,
  "-h": helpCommand,
  "--version": versionCommand,
};

/** Runs the subcommand named by `args[0]`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const command = name === undefined ? undefined : COMMANDS[name];
  try {
    if (command) return await command(rest);
    if (name !== undefined && looksLikeConfigPath(name)) return await serveCommand(args);
    throw new UsageError(
      name === undefined ? "no command given" : `unknown command ${JSON.stringify(name)}`,
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 2;
  }
}

function looksLikeConfigPath(arg: string): boolean {
  return !arg.startsWith("-") && (arg.endsWith(".toml") || arg.includes("/"));
}

function versionCommand(args: string[]): Promise<number> {
  if (args.length) throw new UsageError(`version takes no arguments`);
  console.log(`deno-gitaly ${VERSION} (Gitaly ${GITALY_COMPAT_VERSION} interface)`);
  return Promise.resolve(0);
}

function helpCommand(): Promise<number> {
  console.log(USAGE);
  return Promise.resolve(0);
}
