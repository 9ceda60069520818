/**
 * `gitaly-ssh`: lets git reach a repository on a Gitaly server as if over
 * SSH, through `SSHService` calls. Git runs it as `GIT_SSH_COMMAND`:
 *
 *     GIT_SSH_COMMAND="deno-gitaly gitaly-ssh upload-pack" GIT_SSH_VARIANT=simple \
 *       GITALY_ADDRESS=unix:/path/gitaly.socket \
 *       GITALY_PAYLOAD='{"repository":{"storageName":"default","relativePath":"a.git"}}' \
 *       git clone ssh://gitaly/a.git
 *
 * git appends a host and its own command line, which are ignored: the
 * first argument picks the RPC, the environment carries the call. Exit
 * status: the remote command's, or 1 (with one line on stderr) when this
 * program fails. Kept to a few small imports: it starts once per git
 * invocation.
 *
 * @module
 */
import { dial } from "../client/dial.ts";
import { describeError } from "../client/errors.ts";
import { featureFlagMetadata, parseFeatureFlagList } from "../client/feature_flags.ts";
import { subsetRoot } from "../client/messages.ts";
import { parseProtoJson } from "../client/protojson.ts";
import { runSshCommand, SSH_METHODS, type SshCommand, type StreamIO } from "../client/ssh.ts";

/** Makes every ref visible to the fetching side: hidden refs are for end users only. */
export const SHOW_ALL_REFS = "transfer.hideRefs=!refs";

/** The environment variables gitaly-ssh reads. */
export interface GitalySshEnv {
  GITALY_ADDRESS?: string;
  GITALY_PAYLOAD?: string;
  GITALY_TOKEN?: string;
  GITALY_WD?: string;
  GITALY_FEATUREFLAGS?: string;
  /** `1`: upload-pack over a sidechannel (`SSHUploadPackWithSidechannel`). */
  GITALY_USE_SIDECHANNEL?: string;
  /** Passed on as `x-gitlab-correlation-id`. */
  CORRELATION_ID?: string;
}

/** A failure of gitaly-ssh itself (not of the remote command). */
export class GitalySshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GitalySshError";
  }
}

/** A validated invocation. */
export interface GitalySshInvocation {
  command: SshCommand;
  address: string;
  /** The first request message, as a plain object with proto field names. */
  request: Record<string, unknown>;
  token?: string;
  metadata: Record<string, string>;
  workingDir?: string;
  /** Upload-pack goes over a sidechannel (`GITALY_USE_SIDECHANNEL=1`). */
  sidechannel?: boolean;
}

/** Runs gitaly-ssh with `args` (after the subcommand name); resolves to the exit code. */
export async function gitalySshCommand(
  args: string[],
  env: GitalySshEnv = readEnv(),
  io: StreamIO = processIO(),
): Promise<number> {
  const label = Object.hasOwn(SSH_METHODS, args[0] ?? "") ? `${args[0]}: ` : "";
  try {
    const invocation = parseInvocation(args, env);
    if (invocation.workingDir) changeDirectory(invocation.workingDir);
    return await run(invocation, io);
  } catch (error) {
    await writeLine(io, `gitaly-ssh: ${label}${describeError(error)}`);
    return 1;
  }
}

/** Validates arguments and environment (no I/O). Throws {@link GitalySshError}. */
export function parseInvocation(args: string[], env: GitalySshEnv): GitalySshInvocation {
  // git calls `<program> -G <host>` once to probe for OpenSSH: that must fail.
  if (args.length < 3) {
    throw new GitalySshError(
      `invalid number of arguments, expected at least 1, got ${args.length}`,
    );
  }
  const command = args[0];
  if (!Object.hasOwn(SSH_METHODS, command)) {
    throw new GitalySshError(`invalid pack command: ${JSON.stringify(command)}`);
  }
  const sshCommand = command as SshCommand;
  if (!env.GITALY_ADDRESS) {
    throw new GitalySshError("gitaly address can not be empty: set GITALY_ADDRESS");
  }
  if (!env.GITALY_PAYLOAD?.trim()) {
    throw new GitalySshError(
      "GITALY_PAYLOAD is not set: it carries the first request as JSON, e.g. " +
        `'{"repository":{"storageName":"default","relativePath":"group/project.git"}}'`,
    );
  }
  return {
    command: sshCommand,
    address: env.GITALY_ADDRESS,
    request: firstRequest(sshCommand, env.GITALY_PAYLOAD),
    token: env.GITALY_TOKEN || undefined,
    metadata: callMetadata(env),
    workingDir: env.GITALY_WD || undefined,
    sidechannel: env.GITALY_USE_SIDECHANNEL === "1",
  };
}

/** The payload as a request object; upload-pack also gets {@link SHOW_ALL_REFS} first. */
function firstRequest(command: SshCommand, payload: string): Record<string, unknown> {
  const { requestName, responseName } = SSH_METHODS[command];
  const type = subsetRoot([requestName, responseName]).lookupType(`gitaly.${requestName}`);
  let request: Record<string, unknown>;
  try {
    request = parseProtoJson(type, payload) as unknown as Record<string, unknown>;
  } catch (error) {
    throw new GitalySshError(`json unmarshal: GITALY_PAYLOAD: ${(error as Error).message}`);
  }
  if (command === "upload-pack") {
    const options = (request.git_config_options as string[] | undefined) ?? [];
    request.git_config_options = [SHOW_ALL_REFS, ...options];
  }
  return request;
}

function callMetadata(env: GitalySshEnv): Record<string, string> {
  const metadata = featureFlagMetadata(parseFeatureFlagList(env.GITALY_FEATUREFLAGS ?? ""));
  if (env.CORRELATION_ID) metadata["x-gitlab-correlation-id"] = env.CORRELATION_ID;
  return metadata;
}

function changeDirectory(dir: string): void {
  try {
    Deno.chdir(dir);
  } catch {
    throw new GitalySshError(`unable to chdir to ${dir}`);
  }
}

async function run(invocation: GitalySshInvocation, io: StreamIO): Promise<number> {
  if (invocation.sidechannel && invocation.command === "upload-pack") {
    const { uploadPackOverSidechannel } = await import("../client/sidechannel.ts");
    const { address, token, metadata, request } = invocation;
    return await uploadPackOverSidechannel(address, { token, metadata }, request, io);
  }
  const client = dial(invocation.address, {
    token: invocation.token,
    metadata: invocation.metadata,
  });
  try {
    return await runSshCommand(client, invocation.command, invocation.request, io);
  } finally {
    client.close();
  }
}

/** Reads the variables gitaly-ssh uses from the process environment. */
export function readEnv(): GitalySshEnv {
  const get = (name: string) => Deno.env.get(name);
  return {
    GITALY_ADDRESS: get("GITALY_ADDRESS"),
    GITALY_PAYLOAD: get("GITALY_PAYLOAD"),
    GITALY_TOKEN: get("GITALY_TOKEN"),
    GITALY_WD: get("GITALY_WD"),
    GITALY_FEATUREFLAGS: get("GITALY_FEATUREFLAGS"),
    GITALY_USE_SIDECHANNEL: get("GITALY_USE_SIDECHANNEL"),
    CORRELATION_ID: get("CORRELATION_ID"),
  };
}

/** The process's own standard streams. */
export function processIO(): StreamIO {
  return {
    stdin: Deno.stdin.readable,
    stdout: (chunk) => writeAll(Deno.stdout, chunk),
    stderr: (chunk) => writeAll(Deno.stderr, chunk),
  };
}

async function writeAll(file: { write(p: Uint8Array): Promise<number> }, chunk: Uint8Array) {
  for (let offset = 0; offset < chunk.byteLength;) {
    offset += await file.write(chunk.subarray(offset));
  }
}

async function writeLine(io: StreamIO, line: string): Promise<void> {
  await io.stderr(new TextEncoder().encode(line + "\n")).catch(() => {});
}

// The server runs this module directly (see src/service/remote/gitaly_ssh_command.ts).
if (import.meta.main) Deno.exit(await gitalySshCommand(Deno.args));
