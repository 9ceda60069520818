/**
 * A bounded cache of long-lived `git cat-file` processes, one kind for
 * object metadata and one for object contents, keyed by repository path and
 * the environment variables that change what git sees (quarantine
 * directories, alternates).
 *
 * Each request takes a process out of the cache, so it is exclusive to one
 * caller; an object's content stream keeps its process until the content
 * is read to the end (then the process goes back) or cancelled (then it is
 * killed, since the rest of the object would corrupt the next answer).
 * Concurrent requests for one repository each get their own process; the
 * cache keeps at most `maxProcesses` idle ones, least recently used evicted
 * first, and kills those idle longer than `idleTimeoutMs`.
 *
 * With git ≥ 2.36 the processes run `cat-file --batch-command --buffer`:
 * output is buffered inside git and each request ends with an explicit
 * `flush`, so a batch of lookups costs one write and one flush. Older git
 * falls back to `--batch-check` / `--batch`, which flush after every object.
 *
 * @module
 */

import type { GitProcess, GitRunner } from "./command.ts";
import { GitCommandError } from "./command.ts";
import { BufferedReader, UnexpectedEofError } from "./bufreader.ts";
import { versionAtLeast } from "./version.ts";

/** What `cat-file` reports about an object. */
export interface ObjectInfo {
  oid: string;
  /** `blob`, `tree`, `commit` or `tag`. */
  type: string;
  size: number;
}

/** An object with its content, streamed from the cat-file process. */
export interface GitObject extends ObjectInfo {
  /**
   * Exactly `size` bytes. Read it to the end or cancel it: until then the
   * process is reserved for this reader.
   */
  content: ReadableStream<Uint8Array>;
}

/** Options of {@link CatfileCache}. */
export interface CatfileCacheOptions {
  /** Most idle processes kept (the `catfile_cache_size` setting). Default 100. */
  maxProcesses?: number;
  /** Idle processes older than this are killed. Default 10 s. */
  idleTimeoutMs?: number;
  /** Force `--batch-command` on or off; default: when git ≥ 2.36. */
  batchCommand?: boolean;
  /** Called for every request: `hit` when an idle process was reused (metrics). */
  onLookup?: (kind: "info" | "contents", hit: boolean) => void;
}

/** Per-request options. */
export interface CatfileRequestOptions {
  /** Extra environment (e.g. GIT_OBJECT_DIRECTORY); part of the cache key. */
  env?: Record<string, string>;
  /** Aborting kills the process serving this request. */
  signal?: AbortSignal;
}

/** A revision that cannot be sent to cat-file (empty, or with LF/NUL). */
export class InvalidRevisionError extends Error {
  /** Creates the error for `revision`. */
  constructor(revision: string) {
    super(`invalid revision ${JSON.stringify(revision)}`);
    this.name = "InvalidRevisionError";
  }
}

type Kind = "info" | "contents";

const LF = 0x0a;
const CONTENT_READ_SIZE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One cat-file process and the buffered view of its stdout. */
class BatchProcess {
  readonly output: BufferedReader;
  #input: WritableStreamDefaultWriter<Uint8Array>;
  /** Set when the process must not serve another request. */
  broken = false;

  constructor(
    readonly key: string,
    readonly kind: Kind,
    readonly git: GitProcess,
    input: WritableStream<Uint8Array>,
    readonly batchCommand: boolean,
  ) {
    this.output = new BufferedReader(git.stdout);
    this.#input = input.getWriter();
  }

  get usable(): boolean {
    return !this.broken && !this.git.exited;
  }

  /** Sends the requests for `revisions` in one write (and one flush). */
  send(revisions: Revision[]): Promise<void> {
    const prefix = this.batchCommand ? encoder.encode(`${this.kind} `) : new Uint8Array();
    const parts = revisions.map((r) => typeof r === "string" ? encoder.encode(r) : r);
    const flush = this.batchCommand ? encoder.encode("flush\n") : new Uint8Array();
    const size = parts.reduce((n, part) => n + prefix.byteLength + part.byteLength + 1, 0);
    const out = new Uint8Array(size + flush.byteLength);
    let offset = 0;
    for (const part of parts) {
      out.set(prefix, offset);
      out.set(part, offset + prefix.byteLength);
      offset += prefix.byteLength + part.byteLength;
      out[offset++] = LF;
    }
    out.set(flush, offset);
    return this.#input.write(out);
  }

  /** Reads one header line: info, or null when git reports the object missing. */
  async readHeader(): Promise<ObjectInfo | null> {
    const line = await this.output.readLine();
    if (line === null) throw new UnexpectedEofError("a cat-file header");
    return parseHeader(decoder.decode(line));
  }

  /** Marks the process unusable and kills it. */
  discard(): void {
    this.broken = true;
    this.git.kill();
    this.#input.abort().catch(() => {});
  }
}

/** Parses `<oid> <type> <size>`; `<rev> missing` / `<rev> ambiguous` → null. */
function parseHeader(line: string): ObjectInfo | null {
  if (line.endsWith(" missing") || line.endsWith(" ambiguous")) return null;
  const parts = line.split(" ");
  const size = Number(parts[2]);
  if (parts.length !== 3 || !/^[0-9a-f]+$/.test(parts[0]) || !Number.isSafeInteger(size)) {
    throw new Error(`unexpected cat-file output: ${JSON.stringify(line)}`);
  }
  return { oid: parts[0], type: parts[1], size };
}

/**
 * A revision as cat-file reads it: text, or raw bytes for `rev:path` with a
 * path that is not UTF-8.
 */
export type Revision = string | Uint8Array;

function validateRevision(revision: Revision): void {
  const bad = typeof revision === "string"
    ? revision === "" || revision.includes("\n") || revision.includes("\0")
    : revision.byteLength === 0 || revision.includes(LF) || revision.includes(0);
  if (bad) {
    throw new InvalidRevisionError(
      typeof revision === "string" ? revision : decoder.decode(revision),
    );
  }
}

function cacheKey(repoPath: string, kind: Kind, env: Record<string, string> | undefined): string {
  const envPart = env ? JSON.stringify(Object.entries(env).sort(([a], [b]) => a < b ? -1 : 1)) : "";
  return `${kind}\0${repoPath}\0${envPart}`;
}

/** Bounded LRU cache of cat-file processes; see the module documentation. */
export class CatfileCache {
  #runner: GitRunner;
  #maxProcesses: number;
  #idleTimeoutMs: number;
  #batchCommand?: Promise<boolean>;
  /** Idle processes in least-recently-used order, with the time they became idle. */
  #idle = new Map<BatchProcess, number>();
  #busy = new Set<BatchProcess>();
  /** Every process spawned and not yet reaped, including discarded ones. */
  #all = new Set<BatchProcess>();
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #onLookup?: (kind: Kind, hit: boolean) => void;

  /** Creates an empty cache spawning through `runner`. */
  constructor(runner: GitRunner, options: CatfileCacheOptions = {}) {
    this.#runner = runner;
    this.#maxProcesses = options.maxProcesses ?? 100;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.#onLookup = options.onLookup;
    if (options.batchCommand !== undefined) {
      this.#batchCommand = Promise.resolve(options.batchCommand);
    }
  }

  /** Type and size of the object `revision` names, or null if there is none. */
  async info(
    repoPath: string,
    revision: Revision,
    options: CatfileRequestOptions = {},
  ): Promise<ObjectInfo | null> {
    const [info] = await this.infoMany(repoPath, [revision], options);
    return info;
  }

  /**
   * Info for many revisions through one process, one write and one flush;
   * results in request order, null for missing objects.
   */
  async infoMany(
    repoPath: string,
    revisions: Revision[],
    options: CatfileRequestOptions = {},
  ): Promise<(ObjectInfo | null)[]> {
    revisions.forEach(validateRevision);
    if (revisions.length === 0) return [];
    const proc = await this.#checkout(repoPath, "info", options.env);
    return await this.#guarded(proc, options.signal, async () => {
      const sent = proc.send(revisions);
      sent.catch(() => {}); // awaited below; a failure surfaces as EOF first
      const results: (ObjectInfo | null)[] = [];
      for (let i = 0; i < revisions.length; i++) results.push(await proc.readHeader());
      await sent;
      this.#release(proc);
      return results;
    });
  }

  /**
   * The object `revision` names with its content stream, or null if there
   * is none. See {@link GitObject.content} for the reader's obligations.
   */
  async object(
    repoPath: string,
    revision: Revision,
    options: CatfileRequestOptions = {},
  ): Promise<GitObject | null> {
    validateRevision(revision);
    const proc = await this.#checkout(repoPath, "contents", options.env);
    const info = await this.#guarded(proc, options.signal, async () => {
      await proc.send([revision]);
      const header = await proc.readHeader();
      if (header?.size === 0) await proc.output.expectByte(LF, "the newline after an object");
      if (header === null || header.size === 0) this.#release(proc);
      return header;
    });
    if (info === null) return null;
    const content = info.size === 0
      ? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
      : this.#contentStream(proc, info.size, options.signal);
    return { ...info, content };
  }

  /**
   * Whole contents of many objects through one process, in request order:
   * requests go out in batches (one write and one flush each), so a batch
   * costs one round trip. For objects known to be small (a caller bounds
   * their size first): each is read into memory. Yields null content for a
   * revision that names nothing. Stopping early or an abort kills the
   * process; reading to the end returns it to the cache.
   */
  async *readMany(
    repoPath: string,
    revisions: AsyncIterable<Revision> | Iterable<Revision>,
    options: CatfileRequestOptions & { batch?: number } = {},
  ): AsyncGenerator<{ revision: Revision; object: (ObjectInfo & { data: Uint8Array }) | null }> {
    const batchSize = options.batch ?? 64;
    const proc = await this.#checkout(repoPath, "contents", options.env);
    const onAbort = () => this.#discard(proc);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let clean = false;
    const source = Symbol.asyncIterator in revisions
      ? revisions[Symbol.asyncIterator]()
      : revisions[Symbol.iterator]();
    let exhausted = false;
    try {
      options.signal?.throwIfAborted();
      while (!exhausted) {
        const requested: Revision[] = [];
        while (requested.length < batchSize) {
          const next = await source.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          validateRevision(next.value);
          requested.push(next.value);
        }
        if (requested.length === 0) break;
        const sent = proc.send(requested);
        sent.catch(() => {}); // awaited below; a failure surfaces as EOF first
        for (const revision of requested) {
          // Small objects are usually buffered whole already: no await per object then.
          const line = proc.output.takeLine() ?? await proc.output.readLine();
          if (line === null) throw new UnexpectedEofError("a cat-file header");
          const header = parseHeader(decoder.decode(line));
          if (header === null) {
            yield { revision, object: null };
            continue;
          }
          let data = proc.output.takeBytes(header.size);
          if (data === null) {
            data = new Uint8Array(header.size);
            for (let at = 0; at < data.byteLength;) {
              const count = await proc.output.readInto(data.subarray(at));
              if (count === 0) throw new UnexpectedEofError("object content");
              at += count;
            }
          }
          if (!proc.output.takeExpectedByte(LF, "the newline after an object")) {
            await proc.output.expectByte(LF, "the newline after an object");
          }
          yield { revision, object: { ...header, data } };
        }
        await sent;
      }
      clean = true;
    } catch (error) {
      const failure = await this.#failure(proc, error);
      options.signal?.throwIfAborted();
      throw failure;
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      if (clean) this.#release(proc);
      else this.#discard(proc);
      // Stopped early: close the source (an enumerating git process, say).
      if (!exhausted) await Promise.resolve(source.return?.()).catch(() => {});
    }
  }

  /** Counts of idle (cached) and busy (checked-out) processes. */
  stats(): { idle: number; busy: number } {
    return { idle: this.#idle.size, busy: this.#busy.size };
  }

  /**
   * Kills the idle processes serving `repoPath` with `env`, e.g. those that
   * read a quarantine directory about to be removed.
   */
  evict(repoPath: string, env?: Record<string, string>): void {
    const keys = new Set((["info", "contents"] as Kind[]).map((k) => cacheKey(repoPath, k, env)));
    for (const proc of [...this.#idle.keys()]) {
      if (keys.has(proc.key)) this.#evict(proc);
    }
  }

  /** Kills idle processes that became idle at or before `now - idleTimeoutMs`. */
  pruneIdle(now: number = Date.now()): void {
    for (const [proc, since] of this.#idle) {
      if (since + this.#idleTimeoutMs > now) break; // the rest are younger
      this.#evict(proc);
    }
    this.#scheduleExpiry();
  }

  /** Kills every process, idle or busy, waits until all are reaped, and refuses further requests. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const all = [...this.#all];
    this.#idle.clear();
    this.#busy.clear();
    for (const proc of all) proc.discard();
    await Promise.all(all.map((proc) => proc.git.wait()));
  }

  /** Runs `work` on a checked-out process; on failure or abort, discards it. */
  async #guarded<T>(
    proc: BatchProcess,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    const onAbort = () => this.#discard(proc);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      return await work();
    } catch (error) {
      const failure = await this.#failure(proc, error);
      signal?.throwIfAborted();
      throw failure;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Discards a process whose request failed and returns the error to report:
   * when git closed its stdout by itself (it died), git's own error.
   */
  async #failure(proc: BatchProcess, error: unknown): Promise<unknown> {
    let failure = error;
    if (error instanceof UnexpectedEofError) {
      const exit = await proc.git.wait(); // stdout ended: git is exiting anyway
      if (!exit.killReason) {
        failure = new GitCommandError(["cat-file"], exit.code, exit.stderr, exit.signal);
      }
    }
    this.#discard(proc);
    return failure;
  }

  /** Streams `size` content bytes, then returns the process to the cache. */
  #contentStream(
    proc: BatchProcess,
    size: number,
    signal: AbortSignal | undefined,
  ): ReadableStream<Uint8Array> {
    let remaining = size;
    let controller!: ReadableByteStreamController;
    const onAbort = () => {
      this.#discard(proc);
      try {
        controller.error(signal!.reason);
      } catch {
        // Already closed.
      }
    };
    const finish = () => signal?.removeEventListener("abort", onAbort);
    const source: UnderlyingByteSource = {
      type: "bytes",
      start: (c) => {
        controller = c;
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      },
      pull: async (c) => {
        try {
          remaining -= await this.#readContent(proc, c, remaining);
          if (remaining > 0) return;
          await proc.output.expectByte(LF, "the newline after an object");
          finish();
          this.#release(proc);
          c.close();
          // A BYOB read issued meanwhile waits for an explicit empty answer.
          c.byobRequest?.respond(0);
        } catch (error) {
          finish();
          const failure = await this.#failure(proc, error);
          if (!signal?.aborted) c.error(failure);
        }
      },
      cancel: () => {
        finish();
        this.#discard(proc);
      },
    };
    return new ReadableStream(source);
  }

  /** Moves up to `remaining` bytes into the consumer's BYOB view or a new chunk. */
  async #readContent(
    proc: BatchProcess,
    c: ReadableByteStreamController,
    remaining: number,
  ): Promise<number> {
    const request = c.byobRequest;
    if (request?.view) {
      const view = request.view;
      const target = new Uint8Array(
        view.buffer,
        view.byteOffset,
        Math.min(view.byteLength, remaining),
      );
      const count = await proc.output.readInto(target);
      if (count === 0) throw new UnexpectedEofError("object content");
      request.respond(count);
      return count;
    }
    const chunk = await proc.output.readChunk(Math.min(CONTENT_READ_SIZE, remaining));
    if (chunk === null) throw new UnexpectedEofError("object content");
    const count = chunk.byteLength; // enqueue transfers (detaches) the chunk
    c.enqueue(chunk);
    return count;
  }

  async #checkout(repoPath: string, kind: Kind, env?: Record<string, string>) {
    if (this.#closed) throw new Error("cat-file cache is closed");
    const key = cacheKey(repoPath, kind, env);
    let proc = this.#takeIdle(key);
    this.#onLookup?.(kind, proc !== undefined);
    if (!proc) {
      const batchCommand = await this.#useBatchCommand();
      if (this.#closed) throw new Error("cat-file cache is closed");
      proc = this.#spawn(key, kind, repoPath, env, batchCommand);
    }
    this.#busy.add(proc);
    return proc;
  }

  #takeIdle(key: string): BatchProcess | undefined {
    for (const proc of this.#idle.keys()) {
      if (proc.key !== key) continue;
      this.#idle.delete(proc);
      if (proc.usable) return proc;
      proc.discard();
    }
    return undefined;
  }

  #spawn(
    key: string,
    kind: Kind,
    repoPath: string,
    env: Record<string, string> | undefined,
    batchCommand: boolean,
  ): BatchProcess {
    const input = new TransformStream<Uint8Array, Uint8Array>();
    const mode = batchCommand
      ? ["--batch-command", "--buffer"]
      : [kind === "info" ? "--batch-check" : "--batch"];
    const git = this.#runner.spawn({
      gitDir: repoPath,
      args: ["cat-file", ...mode],
      env,
      stdin: input.readable,
      stderrLimit: 8 * 1024,
    });
    const proc = new BatchProcess(key, kind, git, input.writable, batchCommand);
    this.#all.add(proc);
    git.wait().finally(() => this.#all.delete(proc));
    return proc;
  }

  #useBatchCommand(): Promise<boolean> {
    this.#batchCommand ??= this.#runner.version().then((v) => versionAtLeast(v, "2.36"));
    return this.#batchCommand;
  }

  #release(proc: BatchProcess): void {
    this.#busy.delete(proc);
    if (this.#closed || !proc.usable) {
      proc.discard();
      return;
    }
    this.#idle.set(proc, Date.now());
    while (this.#idle.size > this.#maxProcesses) {
      this.#evict(this.#idle.keys().next().value!);
    }
    this.#scheduleExpiry();
  }

  #discard(proc: BatchProcess): void {
    this.#busy.delete(proc);
    this.#idle.delete(proc);
    proc.discard();
  }

  #evict(proc: BatchProcess): void {
    this.#idle.delete(proc);
    proc.discard();
  }

  /** Keeps one timer, due when the oldest idle process expires. */
  #scheduleExpiry(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const oldest = this.#idle.values().next();
    if (oldest.done) return;
    const delay = Math.max(0, oldest.value + this.#idleTimeoutMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.pruneIdle();
    }, delay);
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
