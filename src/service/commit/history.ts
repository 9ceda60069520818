/**
 * What the CommitService RPCs that answer with `GitCommit` messages share:
 * running a history command (`git log`, `git rev-list`) and reading its
 * output record by record with backpressure, turning listed commit ids into
 * `GitCommit`s through the cat-file cache, paths passed byte for byte,
 * `global_options`, and time limits as git flags.
 *
 * @module
 */
import { concatBytes, type GitCommand, type GitExit } from "../../git/command.ts";
import { type CommitFields, parseCommit } from "../../git/commit_parser.ts";
import { RecordReader } from "../../git/lines.ts";
import type { GitCommit, GlobalOptions, Init } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { invalidArgument } from "../../server/errors.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readCommit } from "../shared/commits.ts";
import { type PipedRequest, pipeObjects, readGitOutput } from "./object_pipe.ts";

const decoder = new TextDecoder();

/** What {@link forEachRecord} runs. */
export interface HistoryCommand {
  gitDir: string;
  command: GitCommand;
  /** Extra environment (e.g. from {@link globalOptionsEnv}). */
  env?: Record<string, string>;
  stdin?: Uint8Array;
  signal: AbortSignal;
}

/**
 * Runs git and calls `onRecord` for each `delimiter`-terminated record of
 * its stdout (delimiter included when present), awaiting each call so a
 * slow client slows git down. `onRecord` returning `false` stops early: git
 * is killed. Resolves with git's exit once it has been reaped; a failing
 * `onRecord` kills git and rethrows after reaping it.
 */
export async function forEachRecord(
  deps: ServiceDeps,
  spawn: HistoryCommand,
  onRecord: (record: Uint8Array) => Promise<boolean | void>,
  delimiter = 0x0a,
): Promise<GitExit & { stopped: boolean }> {
  const git = await deps.git.start({ ...spawn, stdout: "piped" });
  const reader = new RecordReader(git.stdout);
  const result = await readGitOutput(git, reader, async () => {
    while (true) {
      const record = await reader.next(delimiter);
      if (record === null) return false;
      if (await onRecord(record) === false) return true;
    }
  });
  spawn.signal.throwIfAborted();
  return result;
}

/** A record without its trailing delimiter, LF or CR. */
export function chomp(record: Uint8Array): Uint8Array {
  let end = record.length;
  while (end > 0 && (record[end - 1] === 0x0a || record[end - 1] === 0x0d)) end--;
  return record.subarray(0, end);
}

/** The `GitCommit` for `oid` (read through the cat-file cache); throws when it is missing. */
export async function commitForId(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  signal: AbortSignal,
): Promise<CommitFields> {
  const commit = await readCommit(deps, repoPath, oid, signal);
  if (commit === null) throw new Error(`could not retrieve commit ${JSON.stringify(oid)}`);
  return commit;
}

/**
 * The commit `revision` peels to, or null when it names none, also for
 * revisions cat-file cannot be asked about (empty, or with LF or NUL),
 * which name nothing either.
 */
export async function readCommitOrNull(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal: AbortSignal,
): Promise<CommitFields | null> {
  if (revision === "" || /[\n\0]/.test(revision)) return null;
  return await readCommit(deps, repoPath, revision, signal);
}

/**
 * Gitaly's `sendCommits`: `git log --pretty=%H <flags> <revisions> -- <paths>`,
 * the listed commits read through one `cat-file --batch` and sent in
 * messages batched by size. Git's exit
 * status is ignored (Gitaly only logs it): a revision that does not exist
 * yields no commits.
 */
export async function sendLoggedCommits(
  deps: ServiceDeps,
  repoPath: string,
  options: {
    revisions: string[];
    paths?: (Uint8Array | string)[];
    flags?: string[];
    globalOptions?: GlobalOptions | null;
    signal: AbortSignal;
  },
  send: (commits: Init<GitCommit>[]) => Promise<void>,
): Promise<void> {
  const chunker = new SizeChunker<Init<GitCommit>>("gitaly.GitCommit", send);
  const paths = pathspecArgs(options.paths ?? []);
  const source = recordSource(deps, {
    gitDir: repoPath,
    command: {
      name: "log",
      flags: ["--pretty=%H", ...options.flags ?? [], ...paths.flags],
      args: options.revisions,
      postSepArgs: paths.postSepArgs ?? [],
    },
    stdin: paths.stdin,
    env: globalOptionsEnv(options.globalOptions),
    signal: options.signal,
  });
  async function* ids(): AsyncGenerator<PipedRequest<null>[], void, undefined> {
    for await (const batch of source.batches) {
      yield batch.map((record) => ({ id: decoder.decode(chomp(record)), extra: null }));
    }
  }
  await pipeObjects(deps, repoPath, options.signal, ids(), async (object) => {
    if (object === null) throw new Error("could not retrieve a commit git log listed");
    await chunker.add(parseCommit(object.oid, object.data));
  });
  await chunker.flush();
}

/** The environment `global_options` ask for (`literal_pathspecs` → `GIT_LITERAL_PATHSPECS=1`). */
export function globalOptionsEnv(
  options: GlobalOptions | null | undefined,
): Record<string, string> | undefined {
  return options?.literal_pathspecs ? { GIT_LITERAL_PATHSPECS: "1" } : undefined;
}

/**
 * `--before=…`/`--after=…` for a `google.protobuf.Timestamp`, the time as
 * Go prints a `time.Time` in UTC (`2023-11-14 22:13:20 +0000 UTC`), which
 * git's date parser reads exactly.
 */
export function timeFlag(
  flag: "--before" | "--after",
  timestamp: { seconds?: number | bigint | null; nanos?: number | null },
): string {
  const seconds = Number(timestamp.seconds ?? 0);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return `${flag}=@${seconds}`;
  const iso = date.toISOString(); // 2023-11-14T22:13:20.000Z
  const nanos = Number(timestamp.nanos ?? 0);
  const fraction = nanos > 0 ? "." + String(nanos).padStart(9, "0").replace(/0+$/, "") : "";
  return `${flag}=${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction} +0000 UTC`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** What {@link lastCommitIdForPath} looks up. */
export interface LastCommitQuery {
  revision: string;
  /** Raw path bytes; empty or `/` means the whole tree. */
  path: Uint8Array | string;
  literalPathspecs: boolean;
  signal: AbortSignal;
}

/** Pathspecs for a `git log`/`rev-list` command line, or for its stdin when not UTF-8. */
export interface PathspecArgs {
  /** `["--stdin"]` when the paths go on stdin, else none. */
  flags: string[];
  /** The paths after `--` when they are all UTF-8. */
  postSepArgs?: string[];
  /** `--` and the paths, one a line, when some path is not UTF-8. */
  stdin?: Uint8Array;
}

/**
 * Passes `paths` (raw bytes) to git byte for byte: as arguments after `--`
 * when all are UTF-8 (so also paths with LF), else on stdin after a `--`
 * line (`--stdin`), which is how git takes paths that a command line of
 * strings cannot carry. A path with NUL is `InvalidArgument`.
 */
export function pathspecArgs(paths: readonly (Uint8Array | string)[]): PathspecArgs {
  if (paths.length === 0) return { flags: [] };
  const raw = paths.map((path) => typeof path === "string" ? encoder.encode(path) : path);
  if (raw.some((path) => path.includes(0))) throw invalidArgument("path contains a NUL byte");
  const texts = raw.map(utf8OrNull);
  if (texts.every((path) => path !== null)) return { flags: [], postSepArgs: texts as string[] };
  const parts: Uint8Array[] = [encoder.encode("--\n")];
  for (const path of raw) parts.push(path, encoder.encode("\n"));
  return { flags: ["--stdin"], stdin: concatBytes(parts) };
}

/**
 * The id of the last commit at or before `revision` that changed `path`
 * (`git log --format=%H --max-count=1 <revision> -- <path>`), "" when there
 * is none. Throws `InvalidArgument` for a path outside the repository
 * (`..`), `Error("exit status N")` when git fails otherwise.
 */
export async function lastCommitIdForPath(
  deps: ServiceDeps,
  repoPath: string,
  query: LastCommitQuery,
): Promise<string> {
  const raw = typeof query.path === "string" ? encoder.encode(query.path) : query.path;
  const isRoot = raw.length === 0 || (raw.length === 1 && raw[0] === 0x2f);
  const paths = pathspecArgs([isRoot ? "." : raw]);
  const result = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "log",
      flags: ["--format=%H", "--max-count=1", ...paths.flags],
      args: [query.revision],
      postSepArgs: paths.postSepArgs,
    },
    stdin: paths.stdin,
    env: query.literalPathspecs ? { GIT_LITERAL_PATHSPECS: "1" } : undefined,
    signal: query.signal,
  });
  if (result.code !== 0) {
    if (result.stderr.includes("is outside repository")) {
      throw invalidArgument("path escapes repository");
    }
    throw new Error(`exit status ${result.code}`);
  }
  return decoder.decode(chomp(result.stdout));
}

/** `bytes` as text when they are valid UTF-8, else null. */
function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The records of a history command as an async iterator, and how the command ended. */
export interface RecordSource {
  /** The records in batches: each holds at least one, and all that one read brought. */
  batches: AsyncGenerator<Uint8Array[], void, undefined>;
  /** Settles once the iterator has finished and git is reaped (not when it is never started). */
  exit: Promise<GitExit & { stopped: boolean }>;
}

/** Records in one batch of {@link recordSource} at most. */
const MAX_BATCH = 512;

/**
 * {@link forEachRecord} as a pull-based source: git starts at the first
 * `next()`, and returning the iterator early kills it.
 */
export function recordSource(
  deps: ServiceDeps,
  spawn: HistoryCommand,
  delimiter = 0x0a,
): RecordSource {
  let settle!: (exit: GitExit & { stopped: boolean }) => void;
  const exit = new Promise<GitExit & { stopped: boolean }>((resolve) => settle = resolve);
  async function* batches(): AsyncGenerator<Uint8Array[], void, undefined> {
    // A streaming pipeline: git and the server wake each other per read, so
    // git keeps to the server's session (see the runner's notes).
    const git = await deps.git.start({ ...spawn, stdout: "piped", sameSession: true });
    const reader = new RecordReader(git.stdout);
    let finished = false;
    try {
      while (true) {
        const record = await reader.next(delimiter);
        if (record === null) break;
        const batch = [record];
        for (let next = reader.takeBuffered(delimiter); next !== null;) {
          batch.push(next);
          next = batch.length < MAX_BATCH ? reader.takeBuffered(delimiter) : null;
        }
        yield batch;
      }
      finished = true;
    } finally {
      if (!finished) {
        git.kill();
        await reader.cancel().catch(() => {});
      }
      settle({ ...await git.wait(), stopped: !finished });
    }
  }
  return { batches: batches(), exit };
}
