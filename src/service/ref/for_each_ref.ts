/**
 * What the reference listings of RefService share: `git for-each-ref`
 * streamed line by line, Gitaly's pagination over its lines (a limit, a
 * page token naming the reference after which to start, an error when the
 * token names nothing), batches of 20 lines per response message, and the
 * branch messages built from `%(refname)%00%(objectname)` lines.
 *
 * @module
 */
import { BufferedReader, UnexpectedEofError } from "../../git/bufreader.ts";
import type { CommitFields } from "../../git/commit_parser.ts";
import { ascii, parseCommit } from "../../git/commit_parser.ts";
import type { PaginationParameter } from "../../proto/types.ts";
import { GitCommandError } from "../../git/command.ts";
import { invalidArgument, wrapError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { CountChunker } from "../shared/chunker.ts";
import { encodeMessage } from "../../proto/encoded.ts";
import { messageType } from "../../proto/mod.ts";
import { readCommit, readObjectBytes } from "../shared/commits.ts";
import { parseTag } from "../../git/tag_parser.ts";

/** Gitaly's default limit: effectively none. */
const NO_LIMIT = 2 ** 31 - 1;

/** Gitaly's pagination: how many lines, and the reference to start after. */
export interface Pagination {
  limit: number;
  /** Full reference name; lines are skipped up to and including it. */
  pageToken?: string;
}

/** Gitaly's reading of `pagination_params`: a negative limit means none. */
export function paginationOf(params: PaginationParameter | null | undefined): Pagination {
  if (!params) return { limit: NO_LIMIT };
  return {
    limit: params.limit >= 0 ? params.limit : NO_LIMIT,
    pageToken: params.page_token !== "" ? params.page_token : undefined,
  };
}

/** What {@link sendRefLines} runs and how it pages. */
export interface RefLinesOptions {
  /** for-each-ref options (`--format=…`, `--sort=…`, …). */
  flags: string[];
  /** Patterns; they go after `--`, so a request's pattern is never an option. */
  patterns: string[];
  pagination?: Pagination;
  /** Only lines it accepts are paged and sent (Gitaly's `lines.Send` filter). */
  filter?: (line: Uint8Array) => Promise<boolean>;
  signal?: AbortSignal;
  /**
   * Called before waiting for more of git's output (no whole line is
   * buffered): the moment to send what has been gathered so far.
   */
  idle?: () => Promise<void>;
}

/**
 * The answer for a page token that names no listed reference: Gitaly's
 * message, with `InvalidArgument` where Gitaly says `Internal`.
 */
export function pageTokenNotFound(message = "could not find page token"): Error {
  return invalidArgument(message);
}

/** One reference listed by for-each-ref: its line and, with `rawObjects`, its objects. */
export interface RefRecord {
  /** The format's fields, NUL-separated (without the raw objects). */
  line: Uint8Array;
  /** The raw object the reference points at, when it is a commit or a tag. */
  raw?: Uint8Array;
  /** With `rawObjects: "peeled"`: the raw object a tag points at, when it is a commit. */
  peeled?: Uint8Array;
  /** With `rawObjects`: the line's fields (see {@link recordFields}). */
  fields?: Uint8Array[];
}

/** {@link splitRefLine} of a record's line, split once. */
export function recordFields(record: RefRecord, fields: number): Uint8Array[] {
  if (record.fields === undefined) return splitRefLine(record.line, fields);
  if (record.fields.length !== fields) throw refLineError(record.line);
  return record.fields;
}

/**
 * `%(refname)%00%(objectname)%00%(objecttype)%00%(raw:size)` and the raw
 * object on the next line: branch listings read their commits from
 * for-each-ref itself instead of one cat-file request per branch.
 */
export const BRANCH_RAW_FORMAT =
  "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(raw:size)%0a%(raw)";

/**
 * Tag listings: the tag's fields, the tagged object's (`*`) fields and both
 * raw objects after the line.
 */
export const TAG_RAW_FORMAT = "--format=%(refname)%00%(objectname)%00%(objecttype)" +
  "%00%(raw:size)%00%(*objectname)%00%(*objecttype)%00%(*raw:size)%0a%(raw)%(*raw)";

/** The largest object read whole from a listing; bigger ones (never commits) are skipped. */
const MAX_RAW_OBJECT = 1024 * 1024;

/**
 * Runs `git for-each-ref` and hands its lines to `sendBatch` 20 at a time,
 * as Gitaly's `lines.Send` does: with a page token, lines up to and
 * including the one whose first NUL-separated field equals it are skipped;
 * at most `limit` lines are sent; an empty line ends the listing.
 */
export async function sendRefLines(
  deps: ServiceDeps,
  repoPath: string,
  options: RefLinesOptions,
  sendBatch: (lines: Uint8Array[]) => Promise<void>,
): Promise<void> {
  await sendRefRecords(deps, repoPath, options, (records) => sendBatch(records.map((r) => r.line)));
}

/**
 * {@link sendRefLines} for formats that end in `%(raw:size)%0a%(raw)`
 * (`rawObjects`): each line comes with the commit it lists.
 */
export async function sendRefRecords(
  deps: ServiceDeps,
  repoPath: string,
  options: RefLinesOptions & { rawObjects?: boolean | "peeled" },
  sendBatch: (records: RefRecord[]) => Promise<void>,
): Promise<void> {
  const { limit, pageToken } = options.pagination ?? { limit: NO_LIMIT };
  const token = pageToken === undefined ? undefined : new TextEncoder().encode(pageToken);
  let pastToken = token === undefined;
  const chunker = new CountChunker<RefRecord>(sendBatch);
  const git = await deps.git.start({
    gitDir: repoPath,
    command: { name: "for-each-ref", flags: options.flags, postSepArgs: options.patterns },
    signal: options.signal,
  });
  const reader = new BufferedReader(git.stdout);
  // Without raw objects after them, the lines buffered are taken all at once (one copy).
  let buffered: Uint8Array[] = [];
  let next = 0;
  const takeLine = () => {
    if (options.rawObjects) return reader.takeLine();
    if (next === buffered.length) {
      buffered = reader.takeLineViews();
      next = 0;
    }
    return next < buffered.length ? buffered[next++] : null;
  };
  let stoppedEarly = false;
  try {
    let sent = 0;
    while (sent < limit) {
      let line = takeLine();
      if (line === null) {
        await options.idle?.();
        line = await reader.readLine();
      }
      if (line === null || line.length === 0) break;
      const record: RefRecord = { line };
      if (options.rawObjects) await readRaw(reader, record, options.rawObjects === "peeled");
      if (!pastToken) {
        pastToken = firstFieldEquals(line, token!);
        continue;
      }
      if (options.filter && !await options.filter(line)) continue;
      sent++;
      await chunker.add(record);
    }
    stoppedEarly = sent >= limit;
  } catch (error) {
    git.kill();
    await git.wait();
    throw error;
  }
  if (stoppedEarly) {
    await reader.cancel().catch(() => {});
    await git.wait();
  } else {
    const exit = await git.wait();
    if (exit.code !== 0) throw forEachRefFailed(exit.code, exit.stderr);
  }
  if (!pastToken) throw pageTokenNotFound("sending lines: could not find page token");
  await chunker.flush();
}

/**
 * Reads the raw objects after a record's line (its last fields are
 * `type, size`, or with `peeled` `type, size, *oid, *type, *size`): commits
 * and tags are kept, anything else (or bigger than 1 MiB) skipped.
 */
async function readRaw(reader: BufferedReader, record: RefRecord, peeled: boolean): Promise<void> {
  const fields = record.fields = splitFields(record.line);
  const at = fields.length - (peeled ? 5 : 2);
  const size = (field: number) => Number(ascii(fields[field]));
  record.raw = await readObject(reader, ascii(fields[at]), size(at + 1), RAW_KEPT);
  if (peeled) {
    record.peeled = await readObject(reader, ascii(fields[at + 3]), size(at + 4), PEELED_KEPT);
  }
  const what = "the newline after an object";
  if (!reader.takeExpectedByte(0x0a, what)) await reader.expectByte(0x0a, what);
}

const RAW_KEPT = ["commit", "tag"];
const PEELED_KEPT = ["commit"];

async function readObject(
  reader: BufferedReader,
  type: string,
  size: number,
  kept: string[],
): Promise<Uint8Array | undefined> {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error("for-each-ref: bad object size");
  const keep = kept.includes(type) && size <= MAX_RAW_OBJECT;
  if (keep) {
    // Mostly the whole object is buffered already: take it without a read.
    const buffered = reader.takeBytes(size);
    if (buffered !== null) return buffered;
  }
  const buffer = new Uint8Array(keep ? size : Math.min(size, 64 * 1024));
  let remaining = size;
  let at = 0;
  while (remaining > 0) {
    const view = keep
      ? buffer.subarray(at)
      : buffer.subarray(0, Math.min(buffer.length, remaining));
    const count = await reader.readInto(view);
    if (count === 0) throw new UnexpectedEofError("an object in for-each-ref's output");
    remaining -= count;
    at += count;
  }
  return keep ? buffer : undefined;
}

function firstFieldEquals(line: Uint8Array, token: Uint8Array): boolean {
  const nul = line.indexOf(0);
  const field = nul < 0 ? line : line.subarray(0, nul);
  if (field.length !== token.length) return false;
  for (let i = 0; i < field.length; i++) if (field[i] !== token[i]) return false;
  return true;
}

/**
 * A for-each-ref failure, as Gitaly words it (`listing failed with exit
 * code N`); the command and its stderr stay in the cause, for the log.
 */
export function forEachRefFailed(code: number, stderr: string): Error {
  return new Error(`listing failed with exit code ${code}`, {
    cause: new GitCommandError(["for-each-ref"], code, stderr),
  });
}

/**
 * Prefixes a listing's failure with `finding refs: `, as Gitaly's branch
 * listings do (not a cancellation's: the boundary reports those).
 */
export async function findingRefs(listing: Promise<void>, signal: AbortSignal): Promise<void> {
  try {
    await listing;
  } catch (error) {
    throw signal.aborted ? error : wrapError("finding refs", error);
  }
}

/** A `%(refname)%00%(objectname)` line. */
export interface RefLine {
  name: Uint8Array;
  oid: string;
}

/** Splits a for-each-ref line of `fields` NUL-separated fields. */
export function splitRefLine(line: Uint8Array, fields = 2): Uint8Array[] {
  const parts = splitFields(line);
  if (parts.length !== fields) throw refLineError(line);
  return parts;
}

/**
 * {@link splitRefLine} without views: field `i` of the line is
 * `line[ends[i - 1] + 1 .. ends[i])` (with `ends[-1]` taken as -1) once
 * this fills `ends` with the `fields` field ends.
 */
export function refLineFieldEnds(line: Uint8Array, fields: number, ends: number[]): void {
  let count = 0;
  for (let nul = line.indexOf(0); nul >= 0; nul = line.indexOf(0, nul + 1)) {
    if (count === fields - 1) throw refLineError(line);
    ends[count++] = nul;
  }
  if (count !== fields - 1) throw refLineError(line);
  ends[count] = line.length;
}

function refLineError(line: Uint8Array): Error {
  return new Error(`error parsing ref ${JSON.stringify(new TextDecoder().decode(line))}`);
}

/**
 * Branch records' names and commits (as Gitaly: each target peeled to a
 * commit), from {@link BRANCH_RAW_FORMAT} listings.
 */
export function branchesOfRecords(
  deps: ServiceDeps,
  repoPath: string,
  records: RefRecord[],
  signal?: AbortSignal,
  commits: CommitMemo = new CommitMemo(),
): Promise<{ name: Uint8Array; commit: CommitFields }[]> {
  return mapBranchRecords(
    deps,
    repoPath,
    records,
    signal,
    (oid, raw) => commits.parse(oid, raw),
    (commit) => commit,
  );
}

/**
 * {@link branchesOfRecords} with each commit encoded as a `GitCommit`
 * message (once per commit, see {@link CommitMemo.encoded}).
 */
export function encodedBranchesOfRecords(
  deps: ServiceDeps,
  repoPath: string,
  records: RefRecord[],
  signal: AbortSignal | undefined,
  commits: CommitMemo,
): Promise<{ name: Uint8Array; commit: Uint8Array }[]> {
  return mapBranchRecords(
    deps,
    repoPath,
    records,
    signal,
    (oid, raw) => commits.encoded(oid, raw),
    (commit) => commits.encode(commit),
  );
}

async function mapBranchRecords<T>(
  deps: ServiceDeps,
  repoPath: string,
  records: RefRecord[],
  signal: AbortSignal | undefined,
  fromRaw: (oid: string, raw: Uint8Array) => T,
  fromCommit: (commit: CommitFields) => T,
): Promise<{ name: Uint8Array; commit: T }[]> {
  const branches = [];
  for (const record of records) {
    const [name, oidBytes, type] = recordFields(record, 4);
    const raw = record.raw;
    const oid = ascii(oidBytes);
    let commit: T;
    if (raw && ascii(type) === "commit") {
      commit = fromRaw(oid, raw);
    } else {
      const read = await readCommit(deps, repoPath, oid, signal);
      if (read === null) throw new Error(`object not found: ${oid}^{commit}`);
      commit = fromCommit(read);
    }
    branches.push({ name: name.slice(), commit });
  }
  return branches;
}

/**
 * Commits parsed (and encoded) during one listing, by object id:
 * references often share commits, and an object id always names the same
 * bytes. The parsed commits are shared between messages, so they must not
 * be changed.
 */
export class CommitMemo {
  #commits = new Map<string, CommitFields>();
  #encoded = new Map<string, Uint8Array>();

  /** Bounds the memo: listings see at most this many distinct commits before it restarts. */
  constructor(readonly maxEntries = 4096) {}

  /** The parsed commit `raw` with object id `oid`, parsed once. */
  parse(oid: string, raw: Uint8Array): CommitFields {
    let commit = this.#commits.get(oid);
    if (commit === undefined) {
      if (this.#commits.size >= this.maxEntries) this.#commits.clear();
      commit = parseCommit(oid, raw);
      this.#commits.set(oid, commit);
    }
    return commit;
  }

  /** The commit `raw` with object id `oid` as an encoded `GitCommit`, encoded once. */
  encoded(oid: string, raw: Uint8Array): Uint8Array {
    return this.#encoded.get(oid) ?? this.#encode(oid, parseCommit(oid, raw));
  }

  /** `commit` as an encoded `GitCommit`, encoded once per object id. */
  encode(commit: CommitFields): Uint8Array {
    return this.#encoded.get(commit.id) ?? this.#encode(commit.id, commit);
  }

  #encode(oid: string, commit: CommitFields): Uint8Array {
    if (this.#encoded.size >= this.maxEntries) this.#encoded.clear();
    const encoded = encodeMessage(messageType("gitaly.GitCommit"), commit);
    this.#encoded.set(oid, encoded);
    return encoded;
  }
}

/**
 * Checks a name from a request that goes on git's command line: no NUL
 * and, unless it is only a part of an argument, no leading `-` (Gitaly
 * answers Internal for both; we answer InvalidArgument).
 */
export function validateRefArgument(name: string, what: string, allowDash = false): void {
  if (name.includes("\0")) throw invalidArgument(`${what} can't contain NUL`);
  if (!allowDash && name.startsWith("-")) throw invalidArgument(`${what} can't start with '-'`);
}

/** The default branch as Gitaly picks it; see {@link defaultBranch}. */
export interface DefaultBranchInputs {
  branches: string[];
  head: string | null;
}

/**
 * Gitaly's default branch: none without branches; the only branch; else
 * the branch HEAD points at, else `refs/heads/main`, else
 * `refs/heads/master`, else the first branch by name.
 */
export function pickDefaultBranch({ branches, head }: DefaultBranchInputs): string {
  if (branches.length === 0) return "";
  if (branches.length === 1) return branches[0];
  if (head !== null && branches.includes(head)) return head;
  if (branches.includes("refs/heads/main")) return "refs/heads/main";
  if (branches.includes("refs/heads/master")) return "refs/heads/master";
  return branches[0];
}

/** The reference HEAD points at (`git symbolic-ref HEAD`), or null when HEAD is detached. */
export async function headReference(
  deps: ServiceDeps,
  repoPath: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const result = await deps.git.run({
    gitDir: repoPath,
    command: { name: "symbolic-ref", flags: ["--quiet"], args: ["HEAD"] },
    signal,
  });
  if (result.code === 1) return null;
  if (result.code !== 0) {
    throw new Error(`git symbolic-ref HEAD failed with exit code ${result.code}: ${result.stderr}`);
  }
  return new TextDecoder().decode(result.stdout).replace(/\n$/, "");
}

/** The repository's default branch as Gitaly picks it ("" when it has no branches). */
export async function defaultBranch(
  deps: ServiceDeps,
  repoPath: string,
  signal?: AbortSignal,
): Promise<string> {
  const listing = await deps.git.runOk({
    gitDir: repoPath,
    command: { name: "for-each-ref", flags: ["--format=%(refname)"], args: ["refs/heads/"] },
    signal,
  });
  const branches = new TextDecoder().decode(listing.stdout).split("\n").filter((l) => l !== "");
  if (branches.length <= 1) return branches[0] ?? "";
  return pickDefaultBranch({ branches, head: await headReference(deps, repoPath, signal) });
}

/** The for-each-ref fields {@link pointsAtFilter} reads, appended to a listing's format. */
export const POINTS_AT_FIELDS = "%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)";

/**
 * A filter for listings whose lines end in {@link POINTS_AT_FIELDS}: it
 * accepts references pointing at one of `revisions`, directly or through
 * any tag of a chain of tags (git 2.42's `--points-at`, which Gitaly 16.7
 * runs; git 2.39 only looks one tag deep). Throws `InvalidArgument` for a
 * revision that names no object.
 */
export async function pointsAtFilter(
  deps: ServiceDeps,
  repoPath: string,
  revisions: string[],
  signal?: AbortSignal,
): Promise<(line: Uint8Array) => Promise<boolean>> {
  // git takes a full object id as it is, existing or not, and resolves the rest.
  const wanted = new Set(revisions.filter(isFullOid));
  const names = revisions.filter((r) => !isFullOid(r));
  const infos = await deps.catfile.infoMany(repoPath, names, { signal });
  infos.forEach((info, i) => {
    if (info === null) throw invalidArgument(`malformed object name '${names[i]}'`);
    wanted.add(info.oid);
  });
  return async (line) => {
    const fields = splitFields(line);
    const [oid, type, peeled, peeledType] = fields.slice(-4).map(ascii);
    if (wanted.has(oid)) return true;
    if (type !== "tag") return false;
    let current = peeled;
    let currentType = peeledType;
    for (let depth = 0; depth < 100; depth++) {
      if (wanted.has(current)) return true;
      if (currentType !== "tag") return false;
      const object = await readObjectBytes(deps, repoPath, current, signal);
      if (object === null) return false;
      const { targetOid, targetType } = parseTag(current, object.data);
      current = targetOid;
      currentType = targetType;
    }
    return false;
  };
}

function isFullOid(revision: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(revision);
}

function splitFields(line: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let nul = line.indexOf(0); nul >= 0; nul = line.indexOf(0, start)) {
    parts.push(line.subarray(start, nul));
    start = nul + 1;
  }
  parts.push(line.subarray(start));
  return parts;
}
