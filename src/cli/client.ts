/**
 * `client`: talk to a Gitaly server from the shell, for operators.
 *
 *     deno-gitaly client --address unix:/run/gitaly.socket health
 *     deno-gitaly client repo exists group/project.git
 *     deno-gitaly client call RepositoryService/RepositoryExists \
 *       '{"repository":{"storageName":"default","relativePath":"a.git"}}'
 *
 * The address and token come from `--address`/`--token` or
 * `GITALY_ADDRESS`/`GITALY_TOKEN`. Responses are printed as protobuf JSON
 * lines; a failed call prints `Code: message` on stderr and exits 1; a
 * wrong invocation prints the usage and exits 2, a bad value (request
 * JSON, method, address, flag value) one line and exits 2.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { dialContext } from "../client/connect.ts";
import { describeError, isCallError, statusCodeName } from "../client/errors.ts";
import { healthCheck, ServingStatus, servingStatusName } from "../client/health.ts";
import { AddressError } from "../client/address.ts";
import { repositoryService } from "../client/services.ts";
import type { CallOptions } from "../client/stream_calls.ts";
import { type CallIO, prepareCall, processCallIO, runCall } from "./client_call.ts";
import { InputError, parseFlags, UsageError } from "./usage.ts";

/** The usage text of `client`. */
export const CLIENT_USAGE = `Usage: deno-gitaly client [options] <command>

Commands:
  call SERVICE/METHOD [JSON]     any RPC (SERVICE without a package means gitaly.SERVICE);
                                 client- and bidi-streaming calls read more request JSON
                                 lines from stdin; responses are printed as JSON lines
  health [--service NAME]        grpc.health.v1.Health/Check; exits 1 unless SERVING
  repo create PATH [--default-branch NAME]
                                 CreateRepository; HEAD points at NAME (default: main)
  repo exists PATH               RepositoryExists: prints true or false
  repo remove PATH               RemoveRepository
  repo size PATH                 RepositorySize: prints the size in KiB

Options:
  --address ADDR       server address (default: $GITALY_ADDRESS), e.g. unix:/path.socket,
                       tcp://host:port, tls://host:port, dns:///host:port
  --token SECRET       shared secret for token v2 auth (default: $GITALY_TOKEN)
  --ca-file FILE       PEM CA certificates for tls:// addresses
  --storage NAME       storage of the repo commands (default: default)
  --timeout SECONDS    deadline of each call (and of connecting)
  --header KEY=VALUE   extra request metadata (repeatable)
`;

/** Environment variables `client` reads. */
export interface ClientEnv {
  GITALY_ADDRESS?: string;
  GITALY_TOKEN?: string;
}

const FLAGS = {
  address: { type: "string" },
  token: { type: "string" },
  "ca-file": { type: "string" },
  storage: { type: "string" },
  service: { type: "string" },
  "default-branch": { type: "string" },
  timeout: { type: "string" },
  header: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** What every subcommand gets. */
interface Invocation {
  conn: grpc.Client;
  callOptions: () => CallOptions;
  storage: string;
  service?: string;
  defaultBranch?: string;
  io: CallIO;
}

/** Runs `client` with `args` (after the subcommand name); resolves to the exit code. */
export async function clientCommand(
  args: string[],
  env: ClientEnv = readEnv(),
  io: CallIO = processCallIO(),
): Promise<number> {
  let conn: grpc.Client | undefined;
  try {
    const { values, positionals } = parseFlags(args, FLAGS);
    const [command, ...rest] = positionals;
    if (values.help || command === "help") {
      await io.stdout(CLIENT_USAGE);
      return 0;
    }
    const run = pickCommand(command, rest);
    if (values["default-branch"] !== undefined && !(command === "repo" && rest[0] === "create")) {
      throw new UsageError("--default-branch is for repo create");
    }
    const address = values.address ?? env.GITALY_ADDRESS;
    if (!address) throw new InputError("no address: pass --address or set GITALY_ADDRESS");
    const timeoutMs = parseTimeout(values.timeout);
    const metadata = parseHeaders(values.header ?? []);
    conn = await dialContext(address, {
      token: values.token ?? env.GITALY_TOKEN ?? undefined,
      caCertificates: values["ca-file"] ? await Deno.readFile(values["ca-file"]) : undefined,
      failOnNonTempDialError: true,
      deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
    });
    return await run({
      conn,
      callOptions: () => ({ metadata, timeoutMs }),
      storage: values.storage ?? "default",
      service: values.service,
      defaultBranch: values["default-branch"],
      io,
    });
  } catch (error) {
    if (error instanceof InputError || error instanceof AddressError) {
      await io.stderr(`error: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      await io.stderr(`error: ${error.message}\n\n${CLIENT_USAGE}`);
      return 2;
    }
    await io.stderr(errorLine(error) + "\n");
    return 1;
  } finally {
    conn?.close();
  }
}

/** `Code: message` for call errors, the message otherwise. */
export function errorLine(error: unknown): string {
  if (isCallError(error)) return `${statusCodeName(error.code)}: ${error.details}`;
  return `error: ${describeError(error)}`;
}

type Run = (invocation: Invocation) => Promise<number>;

/** Validates the command line before anything is dialed. */
function pickCommand(command: string | undefined, args: string[]): Run {
  switch (command) {
    case "call": {
      if (args.length < 1 || args.length > 2) {
        throw new UsageError("call takes SERVICE/METHOD and an optional JSON request");
      }
      const prepared = prepareCall(args[0], args[1]);
      return (inv) => runCall(inv.conn, prepared, inv.callOptions(), inv.io);
    }
    case "health":
      if (args.length) throw new UsageError("health takes no arguments");
      return health;
    case "repo":
      return repoCommand(args);
    case undefined:
      throw new UsageError("no command given");
    default:
      throw new UsageError(`unknown client command ${JSON.stringify(command)}`);
  }
}

async function health(inv: Invocation): Promise<number> {
  const status = await healthCheck(inv.conn, { ...inv.callOptions(), service: inv.service });
  await inv.io.stdout(servingStatusName(status) + "\n");
  return status === ServingStatus.SERVING ? 0 : 1;
}

const REPO_COMMANDS = ["create", "exists", "remove", "size"];

function repoCommand(args: string[]): Run {
  const [action, path, ...extra] = args;
  if (!REPO_COMMANDS.includes(action ?? "")) {
    throw new UsageError(`repo takes one of ${REPO_COMMANDS.join(", ")}`);
  }
  if (!path || extra.length) throw new UsageError(`repo ${action} takes one repository path`);
  return async (inv) => {
    const repository = { storage_name: inv.storage, relative_path: path };
    const service = repositoryService(inv.conn);
    const options = inv.callOptions();
    switch (action) {
      case "create":
        await service.createRepository({
          repository,
          default_branch: new TextEncoder().encode(inv.defaultBranch ?? ""),
        }, options);
        break;
      case "remove":
        await service.removeRepository({ repository }, options);
        break;
      case "exists": {
        const { exists } = await service.repositoryExists({ repository }, options);
        await inv.io.stdout(`${exists}\n`);
        break;
      }
      case "size": {
        const { size } = await service.repositorySize({ repository }, options);
        await inv.io.stdout(`${size}\n`);
        break;
      }
    }
    return 0;
  };
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!(seconds > 0)) throw new InputError(`--timeout wants a positive number of seconds`);
  return seconds * 1000;
}

function parseHeaders(pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InputError(`--header wants KEY=VALUE, got ${JSON.stringify(pair)}`);
    headers[pair.slice(0, eq).toLowerCase()] = pair.slice(eq + 1);
  }
  return headers;
}

function readEnv(): ClientEnv {
  return {
    GITALY_ADDRESS: Deno.env.get("GITALY_ADDRESS"),
    GITALY_TOKEN: Deno.env.get("GITALY_TOKEN"),
  };
}
