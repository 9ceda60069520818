/**
 * Object pipelines after Gitaly's `gitpipe`: enumerate objects (a graph walk
 * with `git rev-list --objects`, or the whole object database with
 * `git cat-file --batch-all-objects`), then look them up through the
 * cat-file cache. Every step is an async generator pulled by its consumer,
 * so a slow client slows git down, and stopping early (or an abort) kills
 * the enumerating process.
 *
 * @module
 */
import { BufferedReader } from "./bufreader.ts";
import type { CatfileCache, ObjectInfo } from "./catfile.ts";
import type { GitExit, GitRunner } from "./command.ts";

/** One object an enumeration produced. */
export interface ListedObject {
  oid: string;
  /** The path through which a graph walk reached it (raw bytes), if any. */
  name?: Uint8Array;
}

/** A listed object with what cat-file says about it. */
export interface ListedObjectInfo extends ObjectInfo {
  name?: Uint8Array;
}

/** Where and how a pipeline's git commands run. */
export interface PipelineContext {
  /** The repository's git directory. */
  gitDir: string;
  /** Extra environment (object directories); also the cat-file cache key. */
  env?: Record<string, string>;
  /** Aborting kills the enumerating process. */
  signal?: AbortSignal;
}

/** Object types `rev-list --filter=object:type=` accepts. */
export type ObjectType = "blob" | "tree" | "commit" | "tag";

/** Options of {@link revList}. */
export interface RevListOptions extends PipelineContext {
  /** Revisions, including rev-list's pseudo revisions (`--all`, `--not`, …), in order. */
  revisions: string[];
  /** List the objects the commits reach, with their names (`--objects --object-names`). */
  objects?: boolean;
  /** Only blobs smaller than this many bytes (`--filter=blob:limit=`). */
  blobLimit?: number;
  /** Only objects of this type, given ones included (`--filter=object:type=`). */
  objectType?: ObjectType;
}

/** An enumerating git command of a pipeline failed. */
export class PipelineCommandError extends Error {
  /** Builds the error for `step` (e.g. `rev-list`) and how git exited. */
  constructor(readonly step: string, readonly exit: GitExit) {
    super(`${step} pipeline command failed with exit code ${exit.code}`);
    this.name = "PipelineCommandError";
  }
}

const LINE_BUFFER = 256 * 1024;
const decoder = new TextDecoder();

/** Runs `git rev-list` and yields the objects it prints, in its order. */
export async function* revList(
  git: GitRunner,
  options: RevListOptions,
): AsyncGenerator<ListedObject, void, undefined> {
  const flags: string[] = [];
  if (options.objects) flags.push("--in-commit-order", "--objects", "--object-names");
  if (options.blobLimit !== undefined && options.blobLimit > 0) {
    flags.push(`--filter=blob:limit=${options.blobLimit}`);
  }
  if (options.objectType) {
    flags.push(`--filter=object:type=${options.objectType}`, "--filter-provided-objects");
  }
  const lines = gitLines(git, options, "rev-list", {
    name: "rev-list",
    flags,
    revisions: options.revisions,
  });
  for await (const batch of lines) {
    for (const line of batch) {
      const space = line.indexOf(0x20);
      if (space < 0) {
        yield { oid: decoder.decode(line) };
      } else {
        const name = line.subarray(space + 1);
        yield name.byteLength > 0
          ? { oid: decoder.decode(line.subarray(0, space)), name }
          : { oid: decoder.decode(line.subarray(0, space)) };
      }
    }
  }
}

/**
 * Yields every object of the object database (objects in alternates
 * included, unless the environment points git elsewhere) with its type and
 * size, in pack order: `git cat-file --batch-all-objects --batch-check --unordered`.
 */
export async function* allObjects(
  git: GitRunner,
  context: PipelineContext,
): AsyncGenerator<ObjectInfo, void, undefined> {
  const lines = gitLines(git, context, "cat-file", {
    name: "cat-file",
    flags: ["--batch-check", "--batch-all-objects", "--buffer", "--unordered"],
  });
  for await (const batch of lines) {
    for (const line of batch) {
      const [oid, type, size] = decoder.decode(line).split(" ");
      const parsed = Number(size);
      if (!oid || !type || !Number.isSafeInteger(parsed)) {
        throw new Error(
          `parsing object info: unexpected line ${JSON.stringify(decoder.decode(line))}`,
        );
      }
      yield { oid, type, size: parsed };
    }
  }
}

/** Objects looked up per cat-file request in {@link objectInfos}. */
const INFO_BATCH = 256;

/**
 * Adds type and size to each object of `source` through the cat-file
 * cache, many per request; throws when an object does not exist.
 */
export async function* objectInfos(
  catfile: CatfileCache,
  source: AsyncIterable<ListedObject>,
  context: PipelineContext,
): AsyncGenerator<ListedObjectInfo, void, undefined> {
  let batch: ListedObject[] = [];
  const lookUp = async function* () {
    const infos = await catfile.infoMany(context.gitDir, batch.map((o) => o.oid), context);
    const objects = batch;
    batch = [];
    for (let i = 0; i < objects.length; i++) {
      const info = infos[i];
      if (info === null) throw new ObjectNotFoundError(objects[i].oid);
      yield objects[i].name ? { ...info, name: objects[i].name } : info;
    }
  };
  for await (const object of source) {
    batch.push(object);
    if (batch.length >= INFO_BATCH) yield* lookUp();
  }
  if (batch.length > 0) yield* lookUp();
}

/** An object a pipeline listed is not there. */
export class ObjectNotFoundError extends Error {
  /** Builds the error for `oid`. */
  constructor(readonly oid: string) {
    super(`retrieving object info for ${JSON.stringify(oid)}: object not found`);
    this.name = "ObjectNotFoundError";
  }
}

/**
 * Runs one enumerating command and yields its stdout lines (without LF),
 * in batches: every whole line that one read brought.
 */
async function* gitLines(
  git: GitRunner,
  context: PipelineContext,
  step: string,
  command: { name: string; flags?: string[]; revisions?: string[] },
): AsyncGenerator<Uint8Array[], void, undefined> {
  const child = await git.start({
    gitDir: context.gitDir,
    env: context.env,
    command,
    signal: context.signal,
  });
  const reader = new BufferedReader(child.stdout, LINE_BUFFER);
  let finished = false;
  try {
    while (true) {
      // Most lines are buffered already: take them without an await each.
      const lines = reader.takeLines();
      if (lines.length > 0) {
        yield lines;
        continue;
      }
      const line = await reader.readLine();
      if (line === null) break;
      yield [line];
    }
    finished = true;
  } finally {
    if (!finished) {
      // Stopped early, aborted or failed: git must not outlive the pipeline.
      child.kill();
      await reader.cancel().catch(() => {});
      await child.wait();
    }
  }
  const exit = await child.wait();
  context.signal?.throwIfAborted();
  if (exit.code !== 0) throw new PipelineCommandError(step, exit);
}
