/**
 * The hook socket: how the hooks of the git processes this server spawns
 * reach it without starting a process of our own. The runtime
 * directory's hook scripts are small Perl clients (git depends on Perl)
 * that connect to `<runtime dir>/hooks.sock` and do what the `hooks`
 * subcommand does over gRPC, in-process: the same hook chain, votes and
 * pack-objects cache as the HookService RPCs.
 *
 * The protocol is pkt-lines both ways. The client sends one packet per
 * argument (`a` and the argument; the first is the hook's name), one per
 * environment entry (`e` and `KEY=value`), a flush packet, its standard
 * input as data packets, and another flush packet; it keeps the connection
 * open, so the server learns from an end of stream that the hook was
 * killed. The server answers in side-band packets: band 1 is the hook's
 * stdout, band 2 its stderr, and band 3 carries the exit status in decimal
 * and ends the answer. A pack-objects hook's answer is side-band stream
 * pack-objects writes, as it is; or, for a cache hit, band 4 packets
 * `<size> <path>`: the client reads the side-band stream from the entry's
 * file itself, up to the size given, as the file grows (the server keeps
 * the file until the client hangs up).
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { encodePktLine, type PktLine, PktLineError, readPktLines } from "../../git/pktline.ts";
import { describeStatus, oneLine } from "../../proto/status.ts";
import { Code, GrpcError } from "../../server/errors.ts";
import { BAND_STDERR, BAND_STDOUT, SidebandWriter } from "../../sidechannel/sideband.ts";
import type { ServiceDeps } from "../deps.ts";
import type { HookOutput } from "./chain.ts";
import {
  packObjectsCacheOf,
  packObjectsThroughCache,
  parsePackObjectsArgs,
  requestKey,
} from "./pack_objects_hook_with_sidechannel.ts";
import {
  decodeHooksPayload,
  Hook,
  HOOKS_PAYLOAD_ENV,
  type HooksPayload,
  pushOptionsFromEnv,
} from "./payload.ts";
import type { FileFollower } from "./pack_objects_cache.ts";
import { referenceTransactionState, updateHookArgs } from "./hook_args.ts";
import { referenceTransaction } from "./reference_transaction_hook.ts";
import { PACK_OBJECTS_HOOK } from "./runtime.ts";
import { hookChainFor, settleHook } from "./run_hook.ts";

/** The band of the exit status. */
export const BAND_EXIT = 3;
/** The band of a cache entry's size and path. */
export const BAND_FILE = 4;

/** Request packets: an argument, an environment entry. */
const KIND_ARG = 0x61; // "a"
const KIND_ENV = 0x65; // "e"

/** The most arguments and environment a request may carry. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** The hooks and the payload bit that requests each. */
const HOOK_BITS: Record<string, number> = {
  "pre-receive": Hook.PreReceive,
  "post-receive": Hook.PostReceive,
  update: Hook.Update,
  "reference-transaction": Hook.ReferenceTransaction,
  [PACK_OBJECTS_HOOK]: Hook.PackObjects,
};

/** One hook's request: its arguments (the hook's name first) and environment. */
export interface HookRequest {
  args: string[];
  env: string[];
}

/** Serves the hook socket of one server. */
export class HookSocket {
  readonly #listener: Deno.Listener<Deno.UnixConn>;
  readonly #active = new Set<AbortController>();
  readonly #handlers = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  private constructor(readonly deps: ServiceDeps, listener: Deno.Listener<Deno.UnixConn>) {
    this.#listener = listener;
    this.#accepting = this.#accept();
  }

  /** Listens on `path` (a stale socket there is replaced). */
  static async listen(deps: ServiceDeps, path: string): Promise<HookSocket> {
    await Deno.remove(path).catch(() => {});
    const listener = Deno.listen({ transport: "unix", path });
    await Deno.chmod(path, 0o600);
    return new HookSocket(deps, listener);
  }

  /** Stops listening, aborts the hooks still running and waits for them. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#accepting;
    for (const controller of this.#active) controller.abort(new Error("server is shutting down"));
    await Promise.all(this.#handlers);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.UnixConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      const handler = this.#handle(conn);
      this.#handlers.add(handler);
      handler.finally(() => this.#handlers.delete(handler));
    }
  }

  async #handle(conn: Deno.UnixConn): Promise<void> {
    const controller = new AbortController();
    this.#active.add(controller);
    const write = serialWriter(conn);
    const sideband = new SidebandWriter(write);
    const output: HookOutput = {
      stdout: sideband.band(BAND_STDOUT),
      stderr: sideband.band(BAND_STDERR),
    };
    const reader = readPktLines(conn.readable)[Symbol.asyncIterator]();
    const ended = Promise.withResolvers<void>();
    const follower: FileFollower = {
      grown: (path, size) =>
        write(encodePktLine(concatBytes([FILE_PREFIX, encoder.encode(`${size} ${path}`)]))),
      released: ended.promise,
    };
    let name = "hooks";
    let code = 1;
    try {
      const request = await readRequest(reader);
      name = request.args[0] || name;
      const stdin = readStdin(reader, () => {
        // After its input, the client only ends the connection: when done or killed.
        const gone = () => {
          controller.abort(new Error("the hook went away"));
          ended.resolve();
        };
        reader.next().then(gone, gone);
      });
      code = await runHookRequest(
        this.deps,
        request,
        stdin,
        output,
        write,
        controller.signal,
        follower,
      );
    } catch (error) {
      await output.stderr(new TextEncoder().encode(`${name}: ${describe(error)}\n`))
        .catch(() => {});
    } finally {
      this.#active.delete(controller);
    }
    try {
      await sideband.band(BAND_EXIT)(new TextEncoder().encode(String(code)));
    } catch {
      // The hook is gone.
    }
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    ended.resolve();
  }
}

const encoder = new TextEncoder();
const FILE_PREFIX = Uint8Array.of(BAND_FILE);

/**
 * Runs one hook: what the `hooks` subcommand and the HookService RPC
 * behind it do together. Resolves to the exit status; throws what the
 * subcommand would print (`<hook>: <error>`) before exiting with 1.
 * `raw` takes side-band packets as they are (a pack-objects answer);
 * `follower`, when given, follows a pack-objects cache hit's file.
 */
export async function runHookRequest(
  deps: ServiceDeps,
  request: HookRequest,
  stdin: AsyncIterable<Uint8Array>,
  output: HookOutput,
  raw: (chunk: Uint8Array) => Promise<void>,
  signal: AbortSignal,
  follower?: FileFollower,
): Promise<number> {
  const [name, ...args] = request.args;
  const bit = name !== undefined && Object.hasOwn(HOOK_BITS, name) ? HOOK_BITS[name] : undefined;
  if (bit === undefined) throw new Error(`subcommand name invalid: ${JSON.stringify(name ?? "")}`);
  const env = envRecord(request.env);
  const payload = payloadOf(env);
  const token = deps.config.auth.token;
  if (token && !deps.config.auth.transitioning && payload.internalSocketToken !== token) {
    throw new GrpcError(Code.PERMISSION_DENIED, "permission denied");
  }
  const requested = (payload.requestedHooks & bit) !== 0;
  if (!requested && name !== PACK_OBJECTS_HOOK) {
    await drain(stdin);
    return 0;
  }
  const repoPath = await deps.locator.repoPath(payload.repository);
  const call = {
    repository: payload.repository ?? {},
    repoPath,
    env: request.env,
    pushOptions: pushOptionsFromEnv(env),
    output,
    signal,
  };
  const chain = hookChainFor(deps);
  switch (name) {
    case "pre-receive":
    case "post-receive": {
      const changes = await readAll(stdin);
      const stage = name === "pre-receive" ? "preReceive" : "postReceive";
      return await reportExit(output, await settleHook(() => chain[stage](call, changes)));
    }
    case "update": {
      const [ref, oldValue, newValue] = updateHookArgs(args);
      await drain(stdin);
      const exit = await settleHook(() => chain.update(call, ref, oldValue, newValue), {
        refusalsAsErrors: true,
      });
      return await reportExit(output, exit);
    }
    case "reference-transaction": {
      const state = referenceTransactionState(args);
      const changes = await readAll(stdin);
      await referenceTransaction(deps, request.env, state, changes, signal);
      return 0;
    }
    default: {
      if (args[0] !== "git") {
        throw new Error(
          `pack-objects hook: expected git's command line, got ${JSON.stringify(args)}`,
        );
      }
      const gitArgs = args.slice(1);
      const parsed = parsePackObjectsArgs(gitArgs);
      const details = payload.userDetails;
      const key = requestKey({
        repository: payload.repository,
        args: gitArgs,
        gl_id: details?.userid ?? "",
        gl_username: details?.username ?? "",
        git_protocol: env.GIT_PROTOCOL ?? "",
        remote_ip: details?.remoteIp ?? "",
      });
      // Not requested: pack-objects runs as git would have run it, uncached.
      const cache = packObjectsCacheOf(requested ? deps : { ...deps, packObjectsCache: undefined });
      const served = await packObjectsThroughCache(
        deps,
        cache,
        { repoPath, args: parsed, key },
        stdin,
        raw,
        signal,
        follower,
      );
      // What the RPC's log line carries.
      deps.logger.info("pack-objects hook", {
        relative_path: payload.repository?.relative_path ?? "",
        cache_key: served.key,
        bytes: String(served.served),
        cache_hit: String(!served.created),
      });
      return 0;
    }
  }
}

/** Writes a refusal's message to stderr; resolves to its exit status. */
async function reportExit(output: HookOutput, exit: { code: number; message: string }) {
  if (exit.message) await output.stderr(new TextEncoder().encode(exit.message));
  return exit.code;
}

/** The payload from the hook's environment, failing as the `hooks` subcommand does. */
function payloadOf(env: Record<string, string>): HooksPayload {
  const encoded = env[HOOKS_PAYLOAD_ENV];
  if (encoded === undefined) {
    throw new Error("error when getting hooks payload: no hooks payload found in environment");
  }
  try {
    return decodeHooksPayload(encoded);
  } catch (error) {
    throw new Error(`error when getting hooks payload: ${(error as Error).message}`);
  }
}

/** A failure as the `hooks` subcommand prints it (a gRPC error as Go's client words it). */
function describe(error: unknown): string {
  return error instanceof GrpcError
    ? describeStatus(error.code, error.message)
    : oneLine(error instanceof Error ? error.message : String(error));
}

/** Reads the arguments and environment, up to their flush packet. */
export async function readRequest(reader: AsyncIterator<PktLine>): Promise<HookRequest> {
  const decoder = new TextDecoder();
  const request: HookRequest = { args: [], env: [] };
  let size = 0;
  for (;;) {
    const packet = await dataPacket(reader, "request");
    if (packet === null) return request;
    if (packet.byteLength === 0) throw new PktLineError("empty packet in the hook's request");
    size += packet.byteLength;
    if (size > MAX_REQUEST_BYTES) throw new PktLineError("the hook's request is too large");
    const value = decoder.decode(packet.subarray(1));
    if (packet[0] === KIND_ARG) request.args.push(value);
    else if (packet[0] === KIND_ENV) request.env.push(value);
    else throw new PktLineError(`unknown request packet ${JSON.stringify(decoder.decode(packet))}`);
  }
}

/**
 * The hook's standard input: data packets up to a flush packet. Calls
 * `done` once it has been read to its end.
 */
async function* readStdin(
  reader: AsyncIterator<PktLine>,
  done: () => void,
): AsyncGenerator<Uint8Array> {
  for (;;) {
    const packet = await dataPacket(reader, "input");
    if (packet === null) break;
    yield packet;
  }
  done();
}

/** The next data packet's payload, or null for a flush packet. */
async function dataPacket(
  reader: AsyncIterator<PktLine>,
  what: string,
): Promise<Uint8Array | null> {
  const next = await reader.next();
  if (next.done) throw new PktLineError(`the hook's ${what} ended early`);
  if (next.value.type === "flush") return null;
  if (next.value.type !== "data") {
    throw new PktLineError(`unexpected ${next.value.type} packet in the hook's ${what}`);
  }
  return next.value.payload;
}

async function drain(stdin: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of stdin) {
    // Discarded.
  }
}

async function readAll(stdin: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stdin) parts.push(part.slice());
  return concatBytes(parts);
}

/** `KEY=value` entries as a record (the last of a key wins). */
function envRecord(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Writes whole chunks to `conn`, one after the other. */
function serialWriter(conn: Deno.Conn): (chunk: Uint8Array) => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return (chunk) => {
    const next = last.then(async () => {
      for (let at = 0; at < chunk.byteLength;) at += await conn.write(chunk.subarray(at));
    });
    last = next.catch(() => {});
    return next;
  };
}
