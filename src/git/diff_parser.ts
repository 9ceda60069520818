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
import { RecordReader, startsWith } from "./lines.ts";

/** One changed file. */
export interface ParsedDiff {
  fromId: string;
  toId: string;
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

const RAW_LINE =
  /^:(\d+) (\d+) ([0-9a-fA-F]{40}|[0-9a-fA-F]{64}) ([0-9a-fA-F]{40}|[0-9a-fA-F]{64}) ([ADTUXMRC]\d*)\t([^\t\n]*)(?:\t([^\t\n]*))?\n?$/;
const DIFF_HEADER = /^diff --git "?a\/(.*?)"? "?b\/(.*?)"?\n?$/s;
const latin1 = new TextDecoder("latin1");

/**
 * Parses the diffs of `stream`, yielding each file's record; the record
 * object is fresh for each file. Reads the stream to its end.
 */
export async function* parseDiffs(
  stream: ReadableStream<Uint8Array>,
  limitsIn: DiffLimits = {},
  objectIdLength = 40,
): AsyncGenerator<ParsedDiff> {
  const limits = clampLimits(limitsIn);
  const reader = new RecordReader(stream);
  const zeroOid = "0".repeat(objectIdLength);
  const raw: Uint8Array[] = [];
  while (true) {
    const line = await reader.next();
    if (line === null || line[0] !== 0x3a /* : */) break; // the blank line before the patches
    raw.push(line);
  }
  let filesProcessed = 0;
  let linesProcessed = 0;
  let bytesProcessed = 0;
  let finished = false;
  let stopPatchCollection = false;
  let nextPatchFromPath: Uint8Array | null = null;

  while (!finished && raw.length > 0) {
    const diff = parseRawLine(raw.shift()!);
    if (diff.status === "T") {
      // Shown as a deletion, then an addition.
      const addition = `:000000 ${diff.newMode.toString(8)} ${zeroOid} ${diff.toId} A\t`;
      raw.unshift(
        concatBytes([new TextEncoder().encode(addition), quotePathForRaw(diff.fromPath)]),
      );
      diff.newMode = 0;
      diff.toId = zeroOid;
    }
    filesProcessed++;

    if (nextPatchFromPath === null) {
      const header = await reader.next();
      if (header !== null) {
        const match = DIFF_HEADER.exec(latin1.decode(header));
        if (!match) throw new DiffParseError("diff header regexp mismatch");
        nextPatchFromPath = unescapePath(latin1Bytes(match[1]));
      }
    }
    if (nextPatchFromPath === null || !bytesEqual(nextPatchFromPath, diff.fromPath)) {
      yield diff; // this file has no patch (e.g. only whitespace changed and that is ignored)
      continue;
    }
    nextPatchFromPath = null;

    const patch: Uint8Array[] = [];
    let patchSize = 0;
    let lineCount = 0;
    const keep = (line: Uint8Array, countIt: boolean) => {
      if (!stopPatchCollection) {
        patch.push(line);
        patchSize += line.byteLength;
      }
      if (countIt) {
        bytesProcessed += line.byteLength;
        lineCount++;
        linesProcessed++;
      }
    };
    while (true) {
      const head = await reader.peek(10);
      if (head.byteLength === 0) break;
      if (startsWith(head, "diff --git")) break;
      const line = (await reader.next())!;
      if (startsWith(line, "@@")) keep(line, false);
      else if ((startsWith(line, "---") || startsWith(line, "+++")) && patchSize === 0) continue;
      else if (startsWith(line, "~\n")) keep(line, true);
      else if (startsWith(line, "Binary")) {
        diff.binary = true;
        keep(line, true);
      } else if (
        line[0] === 0x2d || line[0] === 0x2b || line[0] === 0x20 ||
        line[0] === 0x5c /* - + space \ */
      ) keep(line, true);
      // Anything else (index, mode and rename lines) is header, not patch.
    }
    diff.patch = concatBytes(patch);

    const prune = () => {
      linesProcessed -= lineCount;
      bytesProcessed -= diff.patch.byteLength;
      diff.patch = new Uint8Array(0);
    };
    const overSafeLimits = filesProcessed > limits.safeMaxFiles ||
      linesProcessed > limits.safeMaxLines || bytesProcessed > limits.safeMaxBytes;
    if (limits.collapseDiffs && overSafeLimits && lineCount > 0) {
      prune();
      diff.collapsed = true;
    }
    if (limits.enforceLimits) {
      if (diff.patch.byteLength >= maxPatchBytesFor(limits, diff.toPath)) {
        prune();
        diff.tooLarge = true;
      }
      const exceeded = linesProcessed - limits.maxLines >= 0 ||
        bytesProcessed - limits.maxBytes >= 0 || filesProcessed - limits.maxFiles > 0;
      if (exceeded) {
        if (limits.collectAllPaths) {
          diff.patch = new Uint8Array(0);
          stopPatchCollection = true;
          diff.overflowMarker = true;
        } else {
          finished = true;
          yield { ...emptyDiff(), overflowMarker: true };
          break;
        }
      }
    }
    yield diff;
  }
  await reader.drain();
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
  return {
    fromId: "",
    toId: "",
    oldMode: 0,
    newMode: 0,
    fromPath: new Uint8Array(0),
    toPath: new Uint8Array(0),
    status: "",
    binary: false,
    overflowMarker: false,
    collapsed: false,
    tooLarge: false,
    patch: new Uint8Array(0),
  };
}

/** Parses one `--raw` line (without `-z`). */
export function parseRawLine(line: Uint8Array): ParsedDiff {
  const match = RAW_LINE.exec(latin1.decode(line));
  if (!match) throw new DiffParseError("raw line regexp mismatch");
  const fromPath = unescapePath(unquote(latin1Bytes(match[6])));
  const status = match[5][0];
  return {
    ...emptyDiff(),
    oldMode: parseInt(match[1], 8),
    newMode: parseInt(match[2], 8),
    fromId: match[3],
    toId: match[4],
    status,
    fromPath,
    toPath: (status === "C" || status === "R") && match[7] !== undefined
      ? unescapePath(unquote(latin1Bytes(match[7])))
      : fromPath,
  };
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

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
