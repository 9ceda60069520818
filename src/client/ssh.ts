/**
 * Client side of the SSH-style streaming RPCs (`SSHUploadPack`,
 * `SSHReceivePack`, `SSHUploadArchive`): the first request carries the
 * repository, then standard input travels in `stdin` chunks of at most
 * 128 KiB; responses carry stdout, stderr and finally the exit status.
 * Like Gitaly's client, the call is over when the response stream ends,
 * whether or not standard input has.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { chunkStream } from "../git/chunk.ts";
import { codec, type MessageCodec } from "./messages.ts";

/** Receives one chunk of output; resolves once the next may be written. */
export type ByteSink = (chunk: Uint8Array) => Promise<void>;

/** Where a streamed command's input comes from and its output goes. */
export interface StreamIO {
  stdin: ReadableStream<Uint8Array>;
  stdout: ByteSink;
  stderr: ByteSink;
}

/** Largest `stdin` chunk per request, as Gitaly's stream writer sends. */
export const STDIN_CHUNK_SIZE = 128 * 1024;

/** The three SSH-style methods: path and message types. */
export const SSH_METHODS = {
  "upload-pack": method("SSHUploadPack"),
  "receive-pack": method("SSHReceivePack"),
  "upload-archive": method("SSHUploadArchive"),
} as const;

/** The name git gives each SSH-style command. */
export type SshCommand = keyof typeof SSH_METHODS;

/** One SSH-style method. */
export interface SshMethod {
  path: string;
  /** Short names of the messages the method uses (for the message subset). */
  requestName: string;
  responseName: string;
}

function method(name: string): SshMethod {
  return {
    path: `/gitaly.SSHService/${name}`,
    requestName: `${name}Request`,
    responseName: `${name}Response`,
  };
}

type Call = grpc.ClientDuplexStream<Record<string, unknown>, StdioResponse>;

/** What responses of all three methods look like. */
interface StdioResponse {
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  exit_status?: { value?: number } | null;
}

/**
 * Runs `command` over `client`: sends `request` (the repository and
 * options), streams `io.stdin`, copies output to the sinks and resolves
 * to the remote exit status. Rejects with the call's `ServiceError` when
 * the RPC fails.
 */
export function runSshCommand(
  client: grpc.Client,
  command: SshCommand,
  request: Record<string, unknown>,
  io: StreamIO,
  metadata?: grpc.Metadata,
): Promise<number> {
  return runStdioCall(client, SSH_METHODS[command], request, io, metadata);
}

/**
 * Runs any bidi method shaped like the SSH ones (first request, then
 * `stdin` chunks; responses with `stdout`, `stderr`, `exit_status`), e.g.
 * the HookService's hooks; resolves to the exit status.
 */
export async function runStdioCall(
  client: grpc.Client,
  method: SshMethod,
  request: Record<string, unknown>,
  io: StreamIO,
  metadata?: grpc.Metadata,
): Promise<number> {
  const { path, requestName, responseName } = method;
  const names = [requestName, responseName];
  const req: MessageCodec = codec(requestName, names);
  const res = codec<StdioResponse>(responseName, names);
  const call = metadata
    ? client.makeBidiStreamRequest(path, req.serialize, res.deserialize, metadata)
    : client.makeBidiStreamRequest(path, req.serialize, res.deserialize);
  const stop = new AbortController();
  let stdinError: unknown;
  pumpStdin(call, request, io.stdin, stop.signal).catch((error) => {
    if (stop.signal.aborted) return; // the call is over; nobody needs more input
    // Reading stdin failed: the remote would wait for the rest forever.
    stdinError = error;
    call.cancel();
  });
  let exitStatus = 0;
  try {
    for await (const response of call as AsyncIterable<StdioResponse>) {
      if (response.exit_status) exitStatus = response.exit_status.value ?? 0;
      if (response.stderr?.length) await io.stderr(response.stderr);
      if (response.stdout?.length) await io.stdout(response.stdout);
    }
  } catch (error) {
    call.cancel();
    throw stdinError ?? error;
  } finally {
    stop.abort(); // the remote command is done: stop reading stdin
  }
  return exitStatus;
}

/** Sends the first request, then stdin in chunks with backpressure, then half-closes. */
async function pumpStdin(
  call: Call,
  first: Record<string, unknown>,
  stdin: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<void> {
  await write(call, first, signal);
  for await (const chunk of chunkStream(stdin, { chunkSize: STDIN_CHUNK_SIZE, signal })) {
    await write(call, { stdin: chunk }, signal);
  }
  call.end();
}

/**
 * Writes one message; when grpc-js asks the writer to slow down, waits for
 * `drain` (or for the call to be over).
 */
function write(
  call: Call,
  message: Record<string, unknown>,
  signal: AbortSignal,
): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const more = call.write(message, (err?: Error | null) => {
      if (err) reject(err);
    });
    if (more) return resolve();
    const done = () => {
      signal.removeEventListener("abort", done);
      call.off("drain", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
