/**
 * `PackObjectsHookWithSidechannel`: what git's `uploadpack.packObjectsHook`
 * asks for during a fetch. Our `hooks` subcommand (the hook) listens on a
 * Unix socket named `sidechannel` and names it in the call's
 * `gitaly-sidechannel-socket` metadata; the server connects to it, reads
 * pack-objects' standard input until the hook half-closes, and answers
 * with pack-objects' stdout and stderr as side-band packets (bands 1 and
 * 2). The output goes through the pack-objects cache, keyed by the SHA-256
 * of the request and the input, so identical fetches share one run.
 *
 * Errors as Gitaly's, in its order: the repository, a command that is not
 * `pack-objects … --stdout` with only flags (`InvalidArgument`), a socket
 * address not ending in `/sidechannel` (`InvalidArgument`) or not
 * answering (`Internal`); a failing pack-objects is `Internal`.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { basename } from "node:path";
import type { PackObjectsHookWithSidechannelRequest, Repository } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import { metadataValue, type Rpc, unary } from "../../server/rpc.ts";
import { BAND_STDERR, BAND_STDOUT, SidebandWriter } from "../../sidechannel/sideband.ts";
import type { ServiceDeps } from "../deps.ts";
import { goQuote } from "../shared/git_options.ts";
import { describeExit, runStreamed } from "../shared/git_stream.ts";
import { type ByteSink, type FileFollower, PackObjectsCache } from "./pack_objects_cache.ts";
import { SIDECHANNEL_SOCKET_HEADER, SIDECHANNEL_SOCKET_NAME } from "./payload.ts";

/** What the hook may ask pack-objects to do. */
export interface PackObjectsArgs {
  /** `--shallow-file ""` before the subcommand (shallow clones). */
  shallowFile: boolean;
  /** Flags other than `--stdout`. */
  flags: string[];
}

/** Parses the hook's command (git's arguments after `git`), as Gitaly does. */
export function parsePackObjectsArgs(args: readonly string[]): PackObjectsArgs {
  const fail = (why: string) =>
    invalidArgument(`invalid pack-objects command: [${args.join(" ")}]: ${why}`);
  let rest = [...args];
  let shallowFile = false;
  if (rest.length >= 2 && rest[0] === "--shallow-file" && rest[1] === "") {
    shallowFile = true;
    rest = rest.slice(2);
  }
  if (rest[0] !== "pack-objects") throw fail("missing pack-objects");
  let stdout = false;
  const flags: string[] = [];
  for (const arg of rest.slice(1)) {
    if (!arg.startsWith("-")) throw fail("non-flag argument");
    if (arg === "--stdout") stdout = true;
    else flags.push(arg);
  }
  if (!stdout) throw fail("missing --stdout");
  return { shallowFile, flags };
}

/** The server's cache, or one that is off (every request runs its own pack-objects). */
export function packObjectsCacheOf(deps: ServiceDeps): PackObjectsCache {
  return deps.packObjectsCache ??
    new PackObjectsCache({ enabled: false, dir: "", maxAgeMs: 1, minOccurrences: 1 });
}

/** Builds the handler; without a cache in `deps` every call runs its own pack-objects. */
export function packObjectsHookWithSidechannel(
  deps: ServiceDeps,
  cache: PackObjectsCache = packObjectsCacheOf(deps),
): Rpc<"gitaly.HookService", "PackObjectsHookWithSidechannel"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const args = parsePackObjectsArgs(req.args);
    const address = metadataValue(ctx.metadata, SIDECHANNEL_SOCKET_HEADER) ?? "";
    if (basename(address) !== SIDECHANNEL_SOCKET_NAME) {
      throw invalidArgument(`invalid side channel address: ${JSON.stringify(address)}`);
    }
    let conn: Deno.UnixConn;
    try {
      conn = await Deno.connect({ transport: "unix", path: address });
    } catch (error) {
      throw new GrpcError(
        Code.INTERNAL,
        `get side-channel: dial unix ${address}: ${dialError(error)}`,
      );
    }

    try {
      const { key, served, created } = await packObjectsThroughCache(
        deps,
        cache,
        { repoPath, args, key: requestKey(req) },
        readAll(conn),
        async (chunk) => {
          for (let at = 0; at < chunk.byteLength;) at += await conn.write(chunk.subarray(at));
        },
        ctx.signal,
      );
      ctx.logFields["cache_key"] = key;
      ctx.logFields["bytes"] = String(served);
      ctx.logFields["cache_hit"] = String(!created);
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    return {};
  });
}

/** A failed connect as Go words it. */
function dialError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "connect: no such file or directory";
  if (error instanceof Deno.errors.ConnectionRefused) return "connect: connection refused";
  if (error instanceof Deno.errors.PermissionDenied) return "connect: permission denied";
  return (error as Error).message;
}

/** One pack-objects run asked for by a hook. */
export interface PackObjectsJob {
  repoPath: string;
  args: PackObjectsArgs;
  /** Everything besides the input that changes the output (the cache key's prefix). */
  key: string;
}

/** How one {@link packObjectsThroughCache} went. */
export interface PackObjectsServed {
  /** The cache key: the SHA-256 of the job's key and the input. */
  key: string;
  /** Bytes written to the sink. */
  served: number;
  /** This request ran pack-objects (a miss). */
  created: boolean;
}

/**
 * What every pack-objects hook does on the server: reads pack-objects'
 * `input` to its end (into an unlinked temp file, hashed
 * into the key), then writes the side-band framed output (band 1 stdout,
 * band 2 stderr) into `sink`, from the cache or from a run of its own
 * (with `follower`, a cache entry is followed instead, see
 * `PackObjectsCache.fetch`).
 * A client gone away is `Cancelled`, anything else `Internal`.
 */
export async function packObjectsThroughCache(
  deps: ServiceDeps,
  cache: PackObjectsCache,
  job: PackObjectsJob,
  input: AsyncIterable<Uint8Array>,
  sink: ByteSink,
  signal: AbortSignal,
  follower?: FileFollower,
): Promise<PackObjectsServed> {
  let stdin: Deno.FsFile | undefined;
  let stdinPath: string | undefined;
  try {
    const hash = createHash("sha256").update(job.key);
    stdinPath = await Deno.makeTempFile({ prefix: "PackObjectsHook-stdin-" });
    stdin = await Deno.open(stdinPath, { read: true, write: true });
    await Deno.remove(stdinPath);
    stdinPath = undefined;
    await copyInput(input, stdin, hash);
    const key = hash.digest("hex");
    const file = stdin;
    stdin = undefined; // the producer owns it now (it may outlive this call)
    let producerOwnsInput = false;
    const { served, created } = await cache.fetch(
      key,
      sink,
      (write, producerSignal) => {
        producerOwnsInput = true;
        return runPackObjects(deps, cache, job.repoPath, job.args, file, write, producerSignal);
      },
      signal,
      follower,
    ).finally(() => {
      if (!producerOwnsInput) file.close();
    });
    cache.countServed(served);
    return { key, served, created };
  } catch (error) {
    if (error instanceof GrpcError) throw error;
    if (error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset) {
      throw new GrpcError(Code.CANCELLED, `pack objects hook: ${(error as Error).message}`);
    }
    throw new GrpcError(Code.INTERNAL, `pack objects hook: ${(error as Error).message}`);
  } finally {
    stdin?.close();
    if (stdinPath) await Deno.remove(stdinPath).catch(() => {});
  }
}

/** The request as the key's prefix: everything that changes the output. */
export function requestKey(
  req:
    & Pick<
      PackObjectsHookWithSidechannelRequest,
      "gl_id" | "gl_username" | "git_protocol" | "remote_ip"
    >
    & {
      repository?: Partial<Repository> | null;
      args: readonly string[];
    },
): string {
  const repo = req.repository;
  return JSON.stringify({
    repository: {
      storage_name: repo?.storage_name ?? "",
      relative_path: repo?.relative_path ?? "",
      git_object_directory: repo?.git_object_directory ?? "",
      git_alternate_object_directories: repo?.git_alternate_object_directories ?? [],
    },
    args: req.args,
    gl_id: req.gl_id,
    gl_username: req.gl_username,
    git_protocol: req.git_protocol,
    remote_ip: req.remote_ip,
  });
}

/** What `conn` sends until it half-closes (a conn's `readable` would close it at the end). */
async function* readAll(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(64 * 1024);
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
    yield buffer.subarray(0, n);
  }
}

/** Copies the hook's input into `file` to its end, hashing it. */
async function copyInput(
  input: AsyncIterable<Uint8Array>,
  file: Deno.FsFile,
  hash: Hash,
): Promise<void> {
  for await (const chunk of input) {
    hash.update(chunk);
    for (let at = 0; at < chunk.byteLength;) at += await file.write(chunk.subarray(at));
  }
  await file.seek(0, Deno.SeekMode.Start);
}

/** Runs pack-objects on `input`, its output side-band framed into `write`. */
async function runPackObjects(
  deps: ServiceDeps,
  cache: PackObjectsCache,
  repoPath: string,
  args: PackObjectsArgs,
  input: Deno.FsFile,
  write: ByteSink,
  signal: AbortSignal,
): Promise<void> {
  let generated = 0; // framed bytes, as the clients get them
  const sideband = new SidebandWriter((chunk) => {
    generated += chunk.byteLength;
    return write(chunk);
  });
  try {
    const exit = await runStreamed(deps.git, {
      gitDir: repoPath,
      emptyShallowFile: args.shallowFile,
      args: ["pack-objects", "--stdout", ...args.flags],
      stdin: input.readable,
      signal,
    }, {
      stdout: sideband.band(BAND_STDOUT),
      stderr: sideband.band(BAND_STDERR),
      stdoutViews: 256 * 1024,
    });
    if (exit.code !== 0) {
      throw new Error(
        `git-pack-objects: stderr: ${goQuote(exit.stderr)} err: ${describeExit(exit)}`,
      );
    }
  } finally {
    cache.countGenerated(generated);
  }
}
