/**
 * A parser of `git diff --raw --patch` output into one record per changed
 * file, with the limits GitLab asks for, as Gitaly parses it:
 *
 * - the raw lines (`:100644 100644 <old> <new> M\tpath`) come first and name
 *   every file, even those whose patch an option suppressed; a blank line
 *   separates them from the patches, which follow in the same order;
 * - a type change (`T`) becomes a deletion followed by an addition;
 * - `enforceLimits` stops at `maxFiles`/`maxLines`/`maxBytes` (the file
 *   that crosses them becomes an empty record with `overflowMarker`) and
 *   empties patches of `maxPatchBytes` or more (`tooLarge`);
 * - `collapseDiffs` empties patches once `safeMax*` are passed (`collapsed`).
 *
 * @module
 */
import { concatBytes } from "./command.ts";
import { RecordReader, startsWith, startsWithAt } from "./lines.ts";

/** One changed file. */
export interface ParsedDiff {
  fromId: string;
  toId: string;
  /** `fromId` as ASCII bytes (for encoders that want bytes). */
  readonly fromIdBytes: Uint8Array;
  /** `toId` as ASCII bytes. */
  readonly toIdBytes: Uint8Array;
  oldMode: number;
  newMode: number;
  fromPath: Uint8Array;
  toPath: Uint8Array;
  /** Raw status letter: A, D, M, R, C, T, U, X. */
  status: string;
  binary: boolean;
  overflowMarker: boolean;
  collapsed: boolean;
  tooLarge: boolean;
  /** The patch (hunk headers and lines, or git's "Binary files … differ" line). */
  patch: Uint8Array;
}

/** Limits of the parse; all zero (off) by default. */
export interface DiffLimits {
  enforceLimits?: boolean;
  collapseDiffs?: boolean;
  collectAllPaths?: boolean;
  maxFiles?: number;
  maxLines?: number;
  maxBytes?: number;
  safeMaxFiles?: number;
  safeMaxLines?: number;
  safeMaxBytes?: number;
  maxPatchBytes?: number;
  /** By file extension (`.md`) or, for names without one, the whole name. */
  maxPatchBytesForFileExtension?: Record<string, number>;
}

/** Upper bounds GitLab's limits are clamped to. */
const UPPER_BOUNDS = {
  maxFiles: 5000,
  maxLines: 250000,
  maxBytes: 5000 * 5120,
  safeMaxFiles: 500,
  safeMaxLines: 25000,
  safeMaxBytes: 500 * 5120,
  maxPatchBytes: 512000,
} as const;

/** The output did not look like `git diff --raw --patch`. */
export class DiffParseError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "DiffParseError";
  }
}

/**
 * Parses the diffs of `stream`, yielding each file's record; the record
 * object is fresh for each file. Reads the stream to its end. `onWait`
 * (if given) runs whenever the parser waits for git's output longer than
 * until the next macrotask (output already in the pipe comes sooner): a
 * consumer that batches what it sends flushes there.
 */
export async function* parseDiffs(
  stream: ReadableStream<Uint8Array>,
  limitsIn: DiffLimits = {},
  objectIdLength = 40,
  onWait?: () => Promise<void>,
): AsyncGenerator<ParsedDiff> {
  const limits = clampLimits(limitsIn);
  const reader = new RecordReader(stream);
  /**
   * Reads until a line is buffered: for when `reader.peekRecord()` has none
   * (most lines are buffered already, and take no promise). Null at the end.
   */
  const readLine = async (): Promise<Uint8Array | null> => {
    while (true) {
      const filled = reader.fill();
      if (onWait) {
        filled.catch(() => {}); // awaited below; must not count as unhandled meanwhile
        if (await outlastsTick(filled)) await onWait();
      }
      await filled;
      const line = reader.peekRecord();
      if (line !== undefined) return line;
    }
  };
  const zeroOid = "0".repeat(objectIdLength);
  // The raw lines, parsed as they come (a line that does not parse fails
  // only when its turn comes, after the files before it).
  const raw: (ParsedDiff | DiffParseError)[] = [];
  while (true) {
    const line = reader.peekRecord() ?? await readLine();
    if (line === null) break;
    reader.skip(line.byteLength);
    if (line[0] !== 0x3a /* : */) break; // the blank line before the patches
    raw.push(parseRawLineOrError(line));
  }
  let filesProcessed = 0;
  let linesProcessed = 0;
  let bytesProcessed = 0;
  let finished = false;
  let stopPatchCollection = false;
  let nextPatchFromPath: Uint8Array | null = null;
  const patch = new PatchBuffer();

  for (let index = 0; !finished && index < raw.length; index++) {
    const parsed = raw[index];
    if (parsed instanceof DiffParseError) throw parsed;
    const diff = parsed;
    if (diff.status === "T") {
      // Shown as a deletion, then an addition.
      const addition = `:000000 ${diff.newMode.toString(8)} ${zeroOid} ${diff.toId} A\t`;
      raw.splice(
        index + 1,
        0,
        parseRawLineOrError(
          concatBytes([new TextEncoder().encode(addition), quotePathForRaw(diff.fromPath)]),
        ),
      );
      diff.newMode = 0;
      diff.toId = zeroOid;
    }
    filesProcessed++;

    if (nextPatchFromPath === null) {
      const header = reader.peekRecord() ?? await readLine();
      if (header !== null) {
        const path = diffHeaderFromPath(header);
        if (path === undefined) throw new DiffParseError("diff header regexp mismatch");
        nextPatchFromPath = unescapePath(path.slice());
        reader.skip(header.byteLength);
      }
    }
    if (nextPatchFromPath === null || !bytesEqual(nextPatchFromPath, diff.fromPath)) {
      yield diff; // this file has no patch (e.g. only whitespace changed and that is ignored)
      continue;
    }
    nextPatchFromPath = null;

    patch.clear();
    let lineCount = 0;
    while (true) {
      // Patch lines are looked at in the reader's buffer: no view per line.
      let end = reader.peekRecordEnd();
      if (end < 0) {
        await readLine();
        end = reader.peekRecordEnd();
      }
      const buffer = reader.bytes;
      const at = reader.position;
      if (end === at || startsWithAt(buffer, at, end, "diff --git")) break;
      reader.skip(end - at);
      const first = buffer[at];
      const second = at + 1 < end ? buffer[at + 1] : -1;
      let counted = true;
      if (first === 0x40 /* @ */ && second === 0x40) counted = false;
      else if (
        (startsWithAt(buffer, at, end, "---") || startsWithAt(buffer, at, end, "+++")) &&
        patch.size === 0
      ) continue;
      else if (first === 0x7e /* ~ */ && second === 0x0a) {
        // a word diff's line break
      } else if (startsWithAt(buffer, at, end, "Binary")) diff.binary = true;
      else if (first !== 0x2d && first !== 0x2b && first !== 0x20 && first !== 0x5c) {
        continue; // not - + space \: header (index, mode and rename lines), not patch
      }
      if (!stopPatchCollection) patch.append(buffer, at, end);
      if (counted) {
        bytesProcessed += end - at;
        lineCount++;
        linesProcessed++;
      }
    }
    // The patch is copied out of the buffer only if it is kept.
    let patchSize = patch.size;
    const prune = () => {
      linesProcessed -= lineCount;
      bytesProcessed -= patchSize;
      patchSize = 0;
    };
    const overSafeLimits = filesProcessed > limits.safeMaxFiles ||
      linesProcessed > limits.safeMaxLines || bytesProcessed > limits.safeMaxBytes;
    if (limits.collapseDiffs && overSafeLimits && lineCount > 0) {
      prune();
      diff.collapsed = true;
    }
    if (limits.enforceLimits) {
      if (patchSize >= maxPatchBytesFor(limits, diff.toPath)) {
        prune();
        diff.tooLarge = true;
      }
      const exceeded = linesProcessed - limits.maxLines >= 0 ||
        bytesProcessed - limits.maxBytes >= 0 || filesProcessed - limits.maxFiles > 0;
      if (exceeded) {
        if (limits.collectAllPaths) {
          patchSize = 0;
          stopPatchCollection = true;
          diff.overflowMarker = true;
        } else {
          finished = true;
          const marker = emptyDiff();
          marker.overflowMarker = true;
          yield marker;
          break;
        }
      }
    }
    diff.patch = patchSize === 0 ? EMPTY : patch.take();
    yield diff;
  }
  await reader.drain();
}

/** Whether `promise` is still pending at the next macrotask. */
function outlastsTick(promise: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), 0));
  return Promise.race([promise.then(() => false, () => false), tick]).finally(() =>
    clearTimeout(timer)
  );
}

/** An empty patch or path, never written to. */
const EMPTY = new Uint8Array(0);

/** One file's patch, gathered from line views into one reused buffer. */
class PatchBuffer {
  #buffer = new Uint8Array(16 * 1024);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  /** Appends `source[from..to)`. */
  append(source: Uint8Array, from: number, to: number): void {
    const end = this.size + to - from;
    if (end > this.#buffer.byteLength) {
      let length = this.#buffer.byteLength * 2;
      while (length < end) length *= 2;
      const bigger = new Uint8Array(length);
      bigger.set(this.#buffer.subarray(0, this.size));
      this.#buffer = bigger;
    }
    const target = this.#buffer;
    if (to - from < 64) {
      for (let i = from, j = this.size; i < to; i++, j++) target[j] = source[i];
    } else {
      target.set(source.subarray(from, to), this.size);
    }
    this.size = end;
  }

  /** A copy of the patch (the caller owns it). */
  take(): Uint8Array {
    return this.size === 0 ? EMPTY : this.#buffer.slice(0, this.size);
  }
}

/**
 * The `a/` path of a `diff --git a/… b/…` line (still escaped, as a view
 * into `line`), or undefined when the line is not one. The path ends at
 * the first space (or quote and space) that `b/` (or `"b/`) follows, as
 * the lazy match of Gitaly's `^diff --git "?a/(.*?)"? "?b/(.*?)"?$` does.
 */
function diffHeaderFromPath(line: Uint8Array): Uint8Array | undefined {
  if (!startsWith(line, "diff --git ")) return undefined;
  let at = 11;
  if (line[at] === 0x22) at++;
  if (line[at] !== 0x61 /* a */ || line[at + 1] !== 0x2f /* / */) return undefined;
  const start = at + 2;
  const bAt = (i: number) =>
    (line[i] === 0x62 && line[i + 1] === 0x2f) ||
    (line[i] === 0x22 && line[i + 1] === 0x62 && line[i + 2] === 0x2f);
  for (let p = start; p < line.byteLength; p++) {
    if (line[p] === 0x22 && line[p + 1] === 0x20 && bAt(p + 2)) return line.subarray(start, p);
    if (line[p] === 0x20 && bAt(p + 1)) return line.subarray(start, p);
  }
  return undefined;
}

function clampLimits(limits: DiffLimits): Required<DiffLimits> {
  const n = (value: number | undefined, bound: number) => Math.min(value ?? 0, bound);
  return {
    enforceLimits: limits.enforceLimits ?? false,
    collapseDiffs: limits.collapseDiffs ?? false,
    collectAllPaths: limits.collectAllPaths ?? false,
    maxFiles: n(limits.maxFiles, UPPER_BOUNDS.maxFiles),
    maxLines: n(limits.maxLines, UPPER_BOUNDS.maxLines),
    maxBytes: n(limits.maxBytes, UPPER_BOUNDS.maxBytes),
    safeMaxFiles: n(limits.safeMaxFiles, UPPER_BOUNDS.safeMaxFiles),
    safeMaxLines: n(limits.safeMaxLines, UPPER_BOUNDS.safeMaxLines),
    safeMaxBytes: n(limits.safeMaxBytes, UPPER_BOUNDS.safeMaxBytes),
    maxPatchBytes: n(limits.maxPatchBytes, UPPER_BOUNDS.maxPatchBytes),
    maxPatchBytesForFileExtension: limits.maxPatchBytesForFileExtension ?? {},
  };
}

function maxPatchBytesFor(limits: Required<DiffLimits>, toPath: Uint8Array): number {
  const byExtension = limits.maxPatchBytesForFileExtension;
  if (Object.keys(byExtension).length > 0) {
    const path = new TextDecoder().decode(toPath);
    const name = path.slice(path.lastIndexOf("/") + 1);
    const dot = name.lastIndexOf(".");
    const key = dot >= 0 ? name.slice(dot) : name;
    if (key in byExtension) return byExtension[key];
  }
  return limits.maxPatchBytes;
}

function emptyDiff(): ParsedDiff {
  return new FileDiff(EMPTY, EMPTY);
}

/**
 * A {@link ParsedDiff} whose ids stay the bytes of git's output until
 * someone asks for them as strings (CommitDiff never does).
 */
class FileDiff implements ParsedDiff {
  #fromId: string | undefined;
  #toId: string | undefined;
  oldMode = 0;
  newMode = 0;
  fromPath: Uint8Array = EMPTY;
  toPath: Uint8Array = EMPTY;
  status = "";
  binary = false;
  overflowMarker = false;
  collapsed = false;
  tooLarge = false;
  patch: Uint8Array = EMPTY;

  constructor(public fromIdBytes: Uint8Array, public toIdBytes: Uint8Array) {}

  get fromId(): string {
    return this.#fromId ??= ascii(this.fromIdBytes);
  }

  set fromId(id: string) {
    this.#fromId = id;
    this.fromIdBytes = new TextEncoder().encode(id);
  }

  get toId(): string {
    return this.#toId ??= ascii(this.toIdBytes);
  }

  set toId(id: string) {
    this.#toId = id;
    this.toIdBytes = new TextEncoder().encode(id);
  }
}

function ascii(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function parseRawLineOrError(line: Uint8Array): ParsedDiff | DiffParseError {
  try {
    return parseRawLine(line);
  } catch (error) {
    if (error instanceof DiffParseError) return error;
    throw error;
  }
}

/**
 * Parses one `--raw` line (without `-z`), as Gitaly's
 * `^:(\d+) (\d+) ([[:xdigit:]]{40}|[[:xdigit:]]{64}) (…) ([ADTUXMRC]\d*)\t([^\t\n]*)(?:\t([^\t\n]*))?$`
 * does; ids and paths are views of one copy of the line.
 */
export function parseRawLine(view: Uint8Array): ParsedDiff {
  const line = view.slice(); // ids and paths are views of this one copy
  let end = line.byteLength;
  if (end > 0 && line[end - 1] === 0x0a) end--;
  let at = 0;
  const fail = (): never => {
    throw new DiffParseError("raw line regexp mismatch");
  };
  if (line[at++] !== 0x3a) fail();
  const mode = (): number => {
    const from = at;
    while (at < end && isDigit(line[at])) at++;
    if (at === from || line[at++] !== 0x20) fail();
    return parseOctal(line, from, at - 1);
  };
  const oldMode = mode();
  const newMode = mode();
  const id = (): Uint8Array => {
    const from = at;
    while (at < end && isHexDigit(line[at])) at++;
    const length = at - from;
    if ((length !== 40 && length !== 64) || line[at++] !== 0x20) fail();
    return line.subarray(from, at - 1);
  };
  const fromId = id();
  const toId = id();
  const status = line[at++];
  if (!STATUS_LETTERS.includes(status)) fail();
  while (at < end && isDigit(line[at])) at++;
  if (line[at++] !== 0x09) fail();
  const path = (): Uint8Array => {
    const from = at;
    while (at < end && line[at] !== 0x09 && line[at] !== 0x0a) at++;
    return unescapePath(unquote(line.subarray(from, at)));
  };
  const fromPath = path();
  let toPath = fromPath;
  if (at < end) {
    if (line[at++] !== 0x09) fail();
    const second = path();
    if (status === 0x43 /* C */ || status === 0x52 /* R */) toPath = second;
  }
  if (at !== end) fail();
  const diff = new FileDiff(fromId, toId);
  diff.oldMode = oldMode;
  diff.newMode = newMode;
  diff.status = String.fromCharCode(status);
  diff.fromPath = fromPath;
  diff.toPath = toPath;
  return diff;
}

/** `parseInt(digits, 8)` of the decimal digits `line[from..to)`: stops at an 8 or 9. */
function parseOctal(line: Uint8Array, from: number, to: number): number {
  if (line[from] > 0x37) return NaN;
  let value = 0;
  for (let i = from; i < to && line[i] <= 0x37; i++) value = value * 8 + line[i] - 0x30;
  return value;
}

/** A, C, D, M, R, T, U, X as bytes. */
const STATUS_LETTERS = [0x41, 0x43, 0x44, 0x4d, 0x52, 0x54, 0x55, 0x58];

function isHexDigit(b: number): boolean {
  return isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);
}

/** Strips the double quotes git puts around a path with special characters. */
function unquote(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength >= 2 && bytes[0] === 0x22 && bytes[bytes.byteLength - 1] === 0x22) {
    return bytes.subarray(1, bytes.byteLength - 1);
  }
  return bytes;
}

/** Undoes git's C-style escapes in a path: `\303\251`, `\"`, `\\`, `\t`, `\n`, … */
export function unescapePath(s: Uint8Array): Uint8Array {
  if (!s.includes(0x5c)) return s;
  const out: number[] = [];
  for (let i = 0; i < s.byteLength; i++) {
    if (s[i] === 0x5c) {
      if (i + 3 < s.byteLength && isDigit(s[i + 1]) && isDigit(s[i + 2]) && isDigit(s[i + 3])) {
        const value = parseInt(String.fromCharCode(s[i + 1], s[i + 2], s[i + 3]), 8);
        if (value <= 0xff) {
          out.push(value);
          i += 3;
          continue;
        }
      }
      if (i + 1 < s.byteLength) {
        const next = s[i + 1];
        const simple: Record<number, number> = {
          0x22: 0x22, // "
          0x5c: 0x5c, // \
          0x2f: 0x2f, // /
          0x27: 0x27, // '
          0x62: 0x08, // b
          0x66: 0x0c, // f
          0x6e: 0x0a, // n
          0x72: 0x0d, // r
          0x74: 0x09, // t
        };
        if (next in simple) out.push(simple[next]);
        else out.push(0x5c, next);
        i++;
        continue;
      }
    }
    out.push(s[i]);
  }
  return new Uint8Array(out);
}

/** A path as it may stand in a raw line: quoted and escaped when needed. */
function quotePathForRaw(path: Uint8Array): Uint8Array {
  const needs = path.some((b) => b < 0x20 || b === 0x22 || b === 0x5c || b >= 0x80 || b === 0x09);
  if (!needs) return path;
  let text = '"';
  for (const b of path) {
    if (b === 0x22) text += '\\"';
    else if (b === 0x5c) text += "\\\\";
    else if (b < 0x20 || b >= 0x80) text += "\\" + b.toString(8).padStart(3, "0");
    else text += String.fromCharCode(b);
  }
  return new TextEncoder().encode(text + '"');
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
