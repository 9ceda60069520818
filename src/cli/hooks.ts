/**
 * `hooks`: what git runs as the hooks of a push on this server (as
 * Gitaly's gitaly-hooks). The server's hook scripts exec
 * `deno-gitaly hooks <hook-name> <git's arguments>`; this reads
 * `GITALY_HOOKS_PAYLOAD`, calls the server's HookService over its internal
 * socket (with the same token) with the hook's environment, push options
 * and standard input, copies the hook's output to stdout/stderr and exits
 * with the status the server decided. Hooks the payload did not request
 * succeed without a call.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../client/dial.ts";
import { describeError } from "../client/errors.ts";
import { codec } from "../client/messages.ts";
import { runStdioCall, type SshMethod, type StreamIO } from "../client/ssh.ts";
import {
  decodeHooksPayload,
  Hook,
  HOOKS_PAYLOAD_ENV,
  type HooksPayload,
  pushOptionsFromEnv,
} from "../service/hooks/payload.ts";
import { referenceTransactionState, updateHookArgs } from "../service/hooks/hook_args.ts";
import { PACK_OBJECTS_HOOK } from "../service/hooks/runtime.ts";
import { processIO } from "./gitaly_ssh.ts";
import { packObjectsHook } from "./pack_objects_hook.ts";

const HOOKS: Record<string, { bit: number; method: string }> = {
  "pre-receive": { bit: Hook.PreReceive, method: "PreReceiveHook" },
  "post-receive": { bit: Hook.PostReceive, method: "PostReceiveHook" },
  update: { bit: Hook.Update, method: "UpdateHook" },
  "reference-transaction": { bit: Hook.ReferenceTransaction, method: "ReferenceTransactionHook" },
};

/** The pack-objects hook (`uploadpack.packObjectsHook`), run with git's command line. */
const PACK_OBJECTS = { bit: Hook.PackObjects, method: "PackObjectsHookWithSidechannel" };

/** Runs hook `args[0]` with git's arguments `args[1..]`; resolves to the exit code. */
export async function hooksCommand(
  args: string[],
  env: Record<string, string> = Deno.env.toObject(),
  io: StreamIO = processIO(),
): Promise<number> {
  const [name, ...hookArgs] = args;
  try {
    const hook = name === PACK_OBJECTS_HOOK
      ? PACK_OBJECTS
      : name !== undefined && Object.hasOwn(HOOKS, name)
      ? HOOKS[name]
      : undefined;
    if (!hook) throw new Error(`subcommand name invalid: ${JSON.stringify(name ?? "")}`);
    const encoded = env[HOOKS_PAYLOAD_ENV];
    if (encoded === undefined) {
      throw new Error("error when getting hooks payload: no hooks payload found in environment");
    }
    let payload: HooksPayload;
    try {
      payload = decodeHooksPayload(encoded);
    } catch (error) {
      throw new Error(`error when getting hooks payload: ${(error as Error).message}`);
    }
    if ((payload.requestedHooks & hook.bit) === 0) {
      // Not asked for: pack-objects still has to run (as git would have run it).
      return name === PACK_OBJECTS_HOOK ? await runGit(hookArgs, io) : 0;
    }
    const client = dial(`unix:${payload.internalSocket}`, {
      token: payload.internalSocketToken || undefined,
    });
    try {
      if (name === PACK_OBJECTS_HOOK) {
        return await packObjectsHook(client, hookArgs, payload, env, io);
      }
      return await callHook(client, name, hook.method, hookArgs, payload, env, io);
    } finally {
      client.close();
    }
  } catch (error) {
    await io.stderr(new TextEncoder().encode(`${name ?? "hooks"}: ${describeError(error)}\n`))
      .catch(() => {});
    return 1;
  }
}

async function callHook(
  client: grpc.Client,
  name: string,
  method: string,
  args: string[],
  payload: HooksPayload,
  env: Record<string, string>,
  io: StreamIO,
): Promise<number> {
  const environment = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const base = { repository: payload.repository, environment_variables: environment };
  const stdio: SshMethod = {
    path: `/gitaly.HookService/${method}`,
    requestName: `${method}Request`,
    responseName: `${method}Response`,
  };
  switch (name) {
    case "update": {
      const [ref, oldValue, newValue] = updateHookArgs(args);
      return await serverStreamHook(client, stdio, {
        ...base,
        ref: new TextEncoder().encode(ref),
        old_value: oldValue,
        new_value: newValue,
      }, io);
    }
    case "reference-transaction":
      return await runStdioCall(
        client,
        stdio,
        { ...base, state: referenceTransactionState(args) },
        io,
      );
    default:
      return await runStdioCall(client, stdio, {
        ...base,
        git_push_options: pushOptionsFromEnv(env),
      }, io);
  }
}

/** Runs git's own command line (`git pack-objects …`) with our stdio. */
async function runGit(args: string[], io: StreamIO): Promise<number> {
  const [program, ...rest] = args;
  if (program !== "git") {
    throw new Error(`expected a git command line, got ${JSON.stringify(args)}`);
  }
  const child = new Deno.Command("git", {
    args: rest,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const copy = async (
    stream: ReadableStream<Uint8Array>,
    sink: (c: Uint8Array) => Promise<void>,
  ) => {
    for await (const chunk of stream) await sink(chunk);
  };
  await Promise.all([
    io.stdin.pipeTo(child.stdin),
    copy(child.stdout, io.stdout),
    copy(child.stderr, io.stderr),
  ]);
  return (await child.status).code;
}

interface HookResponse {
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  exit_status?: { value?: number } | null;
}

async function serverStreamHook(
  client: grpc.Client,
  method: SshMethod,
  request: Record<string, unknown>,
  io: StreamIO,
): Promise<number> {
  const names = [method.requestName, method.responseName];
  const req = codec(method.requestName, names);
  const res = codec<HookResponse>(method.responseName, names);
  const call = client.makeServerStreamRequest(method.path, req.serialize, res.deserialize, request);
  let exitStatus = 0;
  for await (const response of call as AsyncIterable<HookResponse>) {
    if (response.exit_status) exitStatus = response.exit_status.value ?? 0;
    if (response.stderr?.length) await io.stderr(response.stderr);
    if (response.stdout?.length) await io.stdout(response.stdout);
  }
  await io.stdin.cancel().catch(() => {});
  return exitStatus;
}

// Run directly as an entry point as well.
if (import.meta.main) Deno.exit(await hooksCommand(Deno.args));
