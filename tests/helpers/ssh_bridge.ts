/**
 * A test-only stand-in for `gitaly-ssh`, run by git as `GIT_SSH_COMMAND`
 * (with `GIT_SSH_VARIANT=ssh`, so git passes `GIT_PROTOCOL`). It pipes
 * stdin/stdout through `SSHUploadPack`, `SSHReceivePack` or
 * `SSHUploadArchive`, picked from the remote command git asks for.
 *
 * Environment: `GITALY_ADDRESS` (required), `GITALY_PAYLOAD` (the first
 * request as JSON with snake_case fields, e.g. `{"repository": {...},
 * "gl_id": "user-1"}`), `GITALY_TOKEN` (optional), and `GIT_PROTOCOL`
 * from git. Exits with the remote exit status, or 1 on an RPC error.
 *
 * Use {@link sshBridgeEnv} to build git's environment.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { signV2Token } from "../../src/server/auth.ts";

const SCRIPT = new URL(import.meta.url).pathname;
/** Git runs the bridge in other directories: name the import map explicitly. */
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** The environment that makes git use this bridge for `ssh://` or `host:path` URLs. */
export function sshBridgeEnv(
  address: string,
  payload: Record<string, unknown>,
  token?: string,
): Record<string, string> {
  const env: Record<string, string> = {
    GIT_SSH_COMMAND: `'${Deno.execPath()}' run -A --quiet --config '${CONFIG}' '${SCRIPT}'`,
    GIT_SSH_VARIANT: "ssh",
    GITALY_ADDRESS: address,
    GITALY_PAYLOAD: JSON.stringify(payload),
  };
  if (token) env.GITALY_TOKEN = token;
  return env;
}

const METHODS: Record<string, string> = {
  "git-upload-pack": "SSHUploadPack",
  "git-receive-pack": "SSHReceivePack",
  "git-upload-archive": "SSHUploadArchive",
};

/** The remote command is the last argument; options and the host come before it. */
function methodFromArgs(args: string[]): string {
  const command = args.at(-1) ?? "";
  const program = command.trim().split(/\s+/)[0].replace(/^'|'$/g, "");
  const method = METHODS[program];
  if (!method) throw new Error(`unsupported remote command ${JSON.stringify(command)}`);
  return method;
}

function grpcTarget(address: string): string {
  return address.replace(/^tcp:\/\//, "");
}

async function writeAll(file: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  for (let offset = 0; offset < data.byteLength;) offset += await file.write(data.subarray(offset));
}

/** Copies our stdin into the call, one message per read, waiting for `drain`. */
async function pumpStdin(call: grpc.ClientDuplexStream<unknown, unknown>): Promise<void> {
  const reader = Deno.stdin.readable.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      if (!call.write({ stdin: value })) {
        await new Promise((resolve) => call.once("drain", resolve));
      }
    }
  } catch {
    // Our stdin failed: end the request like EOF would.
  }
  call.end();
}

async function main(): Promise<number> {
  const address = Deno.env.get("GITALY_ADDRESS");
  if (!address) throw new Error("GITALY_ADDRESS not set");
  const method = methodFromArgs(Deno.args);
  const first: Record<string, unknown> = JSON.parse(Deno.env.get("GITALY_PAYLOAD") ?? "{}");
  const protocol = Deno.env.get("GIT_PROTOCOL");
  if (protocol && method !== "SSHUploadArchive" && !first.git_protocol) {
    first.git_protocol = protocol;
  }
  const definition = grpcServiceDefinition("gitaly.SSHService")[method];
  const client = new grpc.Client(grpcTarget(address), grpc.credentials.createInsecure(), {
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
  });
  const metadata = new grpc.Metadata();
  const token = Deno.env.get("GITALY_TOKEN");
  if (token) metadata.set("authorization", `Bearer ${signV2Token(token)}`);
  const call = client.makeBidiStreamRequest(
    definition.path,
    definition.requestSerialize,
    definition.responseDeserialize,
    metadata,
  );
  call.write(first);
  pumpStdin(call);
  let exitStatus = 0;
  try {
    for await (const message of call) {
      const response = message as {
        stdout?: Uint8Array;
        stderr?: Uint8Array;
        exit_status?: { value: number } | null;
      };
      if (response.stderr?.length) await writeAll(Deno.stderr, response.stderr);
      if (response.stdout?.length) await writeAll(Deno.stdout, response.stdout);
      if (response.exit_status) exitStatus = response.exit_status.value;
    }
  } catch (error) {
    call.cancel();
    const details = (error as grpc.ServiceError).details ?? String(error);
    await writeAll(Deno.stderr, new TextEncoder().encode(`ssh bridge: ${details}\n`))
      .catch(() => {});
    return exitStatus || 1;
  } finally {
    client.close();
  }
  return exitStatus;
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error(`ssh bridge: ${error}`);
  }
  Deno.exit(code);
}
