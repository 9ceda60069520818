/**
 * Many objects read in one `git cat-file --batch --buffer` for one call,
 * fed while they are listed (Gitaly's rev-list → cat-file pipeline): ids
 * go to cat-file's stdin as a history command lists them and objects come
 * back in the same order, with backpressure both ways, instead of a
 * round trip to the cat-file cache per commit.
 *
 * @module
 */
import { BufferedReader } from "../../git/bufreader.ts";
import { enlargeStdoutPipe } from "../../git/pipe_size.ts";
import { concatBytes, type GitExit, type GitProcess } from "../../git/command.ts";
import { ascii, type CommitFields, parseCommit } from "../../git/commit_parser.ts";
import type { ServiceDeps } from "../deps.ts";

const encoder = new TextEncoder();
const LF = 0x0a;
const SPACE = 0x20;

/**
 * cat-file's stdout pipe and our read buffer: cat-file may run this far
 * ahead while the server waits for a CPU, and one read takes all of it.
 */
const PIPE_SIZE = 256 * 1024;
const READ_SIZE = 64 * 1024;

/** An object as cat-file printed it. */
export interface PipedObject {
  oid: string;
  type: string;
  data: Uint8Array;
}

/** One id to read and what the caller keeps with it. */
export interface PipedRequest<T> {
  id: string;
  extra: T;
}

/**
 * Reads the object of each request `source` yields (in batches: one write
 * to cat-file each) and calls `onObject` with it (null when cat-file
 * reports it missing) and the request's extra, in order. `onObject` returning false stops: cat-file is killed and
 * `source` returned. Resolves once cat-file is reaped.
 */
export async function pipeObjects<T>(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
  source: AsyncIterator<PipedRequest<T>[]>,
  onObject: (object: PipedObject | null, extra: T) => Promise<boolean | void> | boolean | void,
  borrow = false,
): Promise<void> {
  const pending: T[] = [];
  let sourceDone = false;
  const ids = new ReadableStream<Uint8Array>({
    // One write a batch: a write per id costs more than reading the object.
    async pull(controller) {
      while (true) {
        const next = await source.next();
        if (next.done) {
          sourceDone = true;
          controller.close();
          return;
        }
        if (next.value.length === 0) continue;
        const ids: string[] = [];
        for (const { id, extra } of next.value) {
          if (/[\n\0]/.test(id)) throw new Error(`invalid object id ${id}`);
          pending.push(extra);
          ids.push(id);
        }
        controller.enqueue(requestLines(ids));
        return;
      }
    },
    async cancel() {
      if (!sourceDone) await source.return?.();
    },
  }, { highWaterMark: 0 });
  await catFileObjects(deps, repoPath, signal, ids, (object) => {
    const extra = pending.shift() as T;
    return onObject(object, extra);
  }, borrow);
}

/**
 * Runs one `cat-file --batch --buffer` fed by `requests` (its input lines,
 * e.g. the stdout of `git rev-list`, which prints exactly those) and calls
 * `onObject` with each object it prints (null when it reports a request
 * missing), in order. `onObject` returning false stops: cat-file is killed.
 * Resolves once cat-file is reaped; throws when it failed. With `borrow`,
 * an object's data may be a view into the read buffer, valid only while
 * `onObject` runs synchronously (for callers that encode it at once).
 */
export async function catFileObjects(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
  requests: ReadableStream<Uint8Array>,
  onObject: (object: PipedObject | null) => Promise<boolean | void> | boolean | void,
  borrow = false,
): Promise<void> {
  const git = await deps.git.start({
    gitDir: repoPath,
    command: { name: "cat-file", flags: ["--batch", "--buffer"] },
    stdin: requests,
    signal,
  });
  enlargeStdoutPipe(git.pid, PIPE_SIZE);
  const reader = new BufferedReader(git.stdout, PIPE_SIZE);
  const { stopped, ...exit } = await readGitOutput(git, reader, async () => {
    while (true) {
      // A view: parsed before anything reads again.
      const header = reader.takeLineView() ?? await reader.readLine();
      if (header === null) return false;
      const info = parseHeader(header);
      let answer: Promise<boolean | void> | boolean | void;
      if (info === null) {
        answer = onObject(null);
      } else if (borrow && reader.buffered > info.size) {
        const view = reader.peekView(info.size + 1)!;
        if (view[info.size] !== LF) throw new Error(`expected ${NEWLINE_AFTER}`);
        answer = onObject({ oid: info.oid, type: info.type, data: view.subarray(0, info.size) });
        reader.skip(info.size + 1); // before anything reads again
      } else {
        const data = reader.takeBytes(info.size) ?? await readObject(reader, info.size);
        if (!reader.takeExpectedByte(LF, NEWLINE_AFTER)) await reader.expectByte(LF, NEWLINE_AFTER);
        answer = onObject({ oid: info.oid, type: info.type, data });
      }
      if (answer instanceof Promise) answer = await answer;
      if (answer === false) return true;
    }
  });
  signal.throwIfAborted();
  if (!stopped && exit.code !== 0) {
    throw new Error(`cat-file failed with exit code ${exit.code}: ${exit.stderr.trim()}`);
  }
}

/**
 * `ids` as cat-file's input lines. Object ids are ASCII, and writing their
 * chars is much cheaper than a TextEncoder call on the joined lines.
 */
function requestLines(ids: readonly string[]): Uint8Array {
  let length = 0;
  for (const id of ids) length += id.length + 1;
  const out = new Uint8Array(length);
  let at = 0;
  for (const id of ids) {
    let ascii = true;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      out[at + i] = c;
    }
    if (!ascii) return encoder.encode(`${ids.join("\n")}\n`);
    at += id.length;
    out[at++] = LF;
  }
  return out;
}

const NEWLINE_AFTER = "the newline after an object";
const COMMIT = new TextEncoder().encode("commit");

/**
 * `<oid> <type> <size>` of a found object, or null for any other header
 * (`<name> missing`, `<name> ambiguous`).
 */
function parseHeader(header: Uint8Array): { oid: string; type: string; size: number } | null {
  const first = header.indexOf(SPACE);
  if (first < 40 || first > 64) return null;
  const second = header.indexOf(SPACE, first + 1);
  if (second < 0 || second === header.length - 1) return null;
  let size = 0;
  for (let i = second + 1; i < header.length; i++) {
    const digit = header[i] - 0x30;
    if (digit < 0 || digit > 9) return null;
    size = size * 10 + digit;
  }
  for (let i = 0; i < first; i++) {
    const c = header[i];
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return null;
  }
  const type = header.subarray(first + 1, second);
  return {
    oid: ascii(header.subarray(0, first)),
    type: COMMIT.every((b, i) => type[i] === b) && type.length === COMMIT.length
      ? "commit"
      : ascii(type),
    size,
  };
}

/** Reads an object's `size` bytes that are not all buffered yet. */
async function readObject(reader: BufferedReader, size: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let remaining = size;
  while (remaining > 0) {
    const chunk = await reader.readChunk(Math.min(remaining, READ_SIZE));
    if (chunk === null) throw new Error("cat-file ended inside an object");
    parts.push(chunk);
    remaining -= chunk.byteLength;
  }
  return concatBytes(parts);
}

/** Revisions written to cat-file at once by {@link peeledCommits}. */
const PEELED_BATCH = 512;

/**
 * The commits `revisions` peel to (`<revision>^{commit}`), read through
 * one `cat-file --batch`, each passed to `onCommit` with its index, in
 * order; revisions that name no commit are skipped (also those cat-file
 * cannot take: empty, or with LF or NUL).
 */
export async function peeledCommits(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
  revisions: readonly string[],
  onCommit: (commit: CommitFields, index: number) => Promise<void>,
): Promise<void> {
  async function* requests(): AsyncGenerator<PipedRequest<number>[], void, undefined> {
    let batch: PipedRequest<number>[] = [];
    for (const [index, revision] of revisions.entries()) {
      if (revision !== "" && !/[\n\0]/.test(revision)) {
        batch.push({ id: `${revision}^{commit}`, extra: index });
      }
      if (batch.length === PEELED_BATCH) {
        yield batch;
        batch = [];
      }
    }
    yield batch;
  }
  await pipeObjects(deps, repoPath, signal, requests(), async (object, index) => {
    if (object !== null) await onCommit(parseCommit(object.oid, object.data), index);
  });
}

/**
 * Runs `read` over the output of a started git: `read` resolves `true`
 * when it stopped early, and then git is killed and its stdout cancelled;
 * a failing `read` does the same and rethrows once git is reaped. Resolves
 * with git's exit (and whether `read` stopped) once git has been reaped.
 */
export async function readGitOutput(
  git: GitProcess,
  reader: { cancel(): Promise<void> },
  read: () => Promise<boolean>,
): Promise<GitExit & { stopped: boolean }> {
  let stopped: boolean;
  try {
    stopped = await read();
  } catch (error) {
    git.kill();
    await reader.cancel().catch(() => {});
    await git.wait();
    throw error;
  }
  if (stopped) {
    git.kill();
    await reader.cancel().catch(() => {});
  }
  return { ...await git.wait(), stopped };
}
