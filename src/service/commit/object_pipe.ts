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
import { concatBytes, type GitExit, type GitProcess } from "../../git/command.ts";
import { type CommitFields, parseCommit } from "../../git/commit_parser.ts";
import type { ServiceDeps } from "../deps.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 0x0a;
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
 * Reads the object of each request `source` yields and calls `onObject`
 * with it (null when cat-file reports it missing) and the request's extra,
 * in order. `onObject` returning false stops: cat-file is killed and
 * `source` returned. Resolves once cat-file is reaped.
 */
export async function pipeObjects<T>(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
  source: AsyncIterator<PipedRequest<T>>,
  onObject: (object: PipedObject | null, extra: T) => Promise<boolean | void>,
): Promise<void> {
  const pending: T[] = [];
  let sourceDone = false;
  const ids = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await source.next();
      if (next.done) {
        sourceDone = true;
        controller.close();
        return;
      }
      if (/[\n\0]/.test(next.value.id)) throw new Error(`invalid object id ${next.value.id}`);
      pending.push(next.value.extra);
      controller.enqueue(encoder.encode(`${next.value.id}\n`));
    },
    async cancel() {
      if (!sourceDone) await source.return?.();
    },
  }, { highWaterMark: 0 });
  const git = await deps.git.start({
    gitDir: repoPath,
    command: { name: "cat-file", flags: ["--batch", "--buffer"] },
    stdin: ids,
    signal,
  });
  const reader = new BufferedReader(git.stdout);
  const { stopped, ...exit } = await readGitOutput(git, reader, async () => {
    while (true) {
      const header = await reader.readLine();
      if (header === null) return false;
      const extra = pending.shift() as T;
      const fields = decoder.decode(header).split(" ");
      const found = fields.length === 3 && /^[0-9a-f]{40,64}$/.test(fields[0]) &&
        /^[0-9]+$/.test(fields[2]);
      if (!found) {
        if (await onObject(null, extra) === false) return true;
        continue;
      }
      let remaining = Number(fields[2]);
      const parts: Uint8Array[] = [];
      while (remaining > 0) {
        const chunk = await reader.readChunk(Math.min(remaining, READ_SIZE));
        if (chunk === null) throw new Error("cat-file ended inside an object");
        parts.push(chunk);
        remaining -= chunk.byteLength;
      }
      await reader.expectByte(LF, "the newline after an object");
      const object = { oid: fields[0], type: fields[1], data: concatBytes(parts) };
      if (await onObject(object, extra) === false) return true;
    }
  });
  signal.throwIfAborted();
  if (!stopped && exit.code !== 0) {
    throw new Error(`cat-file failed with exit code ${exit.code}: ${exit.stderr.trim()}`);
  }
}

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
  async function* requests(): AsyncGenerator<PipedRequest<number>, void, undefined> {
    for (const [index, revision] of revisions.entries()) {
      if (revision !== "" && !/[\n\0]/.test(revision)) {
        yield { id: `${revision}^{commit}`, extra: index };
      }
    }
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
