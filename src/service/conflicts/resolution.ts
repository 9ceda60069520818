/**
 * Conflict resolutions as GitLab sends them to `ResolveConflicts`: the JSON
 * list of files, each resolved either by picking a side per conflict
 * section (`head` = ours, `origin` = theirs, keyed by the section's line
 * code `<sha1(path)>_<old line>_<new line>`, old counting their lines, new
 * ours) or by its whole new `content`; and applying one to a conflicted blob as git-merge-tree(1)
 * wrote it (markers labelled with the two commit ids), as Gitaly does.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { concatBytes } from "../../git/command.ts";
import { bytesEqual } from "../../git/tree.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";

/** One file's resolution. */
export interface Resolution {
  /** The path in our commit. */
  oldPath: string;
  /** The path in their commit. */
  newPath: string;
  /** Section line code → `head` or `origin`; empty means `content` applies. */
  sections: Record<string, string>;
  /** The resolved file when no sections are given. */
  content: string;
}

/**
 * Largest conflicted file resolved by sections (Gitaly's 200 KiB limit; a
 * line may not be longer either).
 */
export const FILE_LIMIT = 200 * 1024;

const encoder = new TextEncoder();
const LF = 0x0a;
const NEWLINE = new Uint8Array([LF]);

/**
 * Parses the resolutions JSON with Gitaly's checks and messages: a JSON
 * error is `Internal` with encoding/json's wording, an entry with neither
 * `sections` nor `content` `InvalidArgument`.
 */
export function parseResolutions(json: Uint8Array): Resolution[] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(json));
  } catch (error) {
    throw new GrpcError(Code.INTERNAL, jsonSyntaxMessage(json, error));
  }
  if (!Array.isArray(value)) {
    throw jsonTypeError(value, "Go value of type []map[string]interface {}");
  }
  for (const entry of value) {
    if (entry === null) continue;
    if (typeof entry !== "object" || Array.isArray(entry)) {
      throw jsonTypeError(entry, "Go value of type map[string]interface {}");
    }
  }
  for (const entry of value as (Record<string, unknown> | null)[]) {
    if (entry === null || (!("sections" in entry) && !("content" in entry))) {
      throw invalidArgument("missing sections or content for a resolution");
    }
  }
  return (value as Record<string, unknown>[]).map((entry) => ({
    oldPath: stringField(entry, "old_path"),
    newPath: stringField(entry, "new_path"),
    sections: sectionsField(entry),
    content: stringField(entry, "content"),
  }));
}

function stringField(entry: Record<string, unknown>, name: string): string {
  const value = entry[name];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") {
    throw jsonTypeError(value, `Go struct field Resolution.${name} of type string`);
  }
  return value;
}

function sectionsField(entry: Record<string, unknown>): Record<string, string> {
  const value = entry.sections;
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw jsonTypeError(value, "Go struct field Resolution.sections of type map[string]string");
  }
  const sections: Record<string, string> = {};
  for (const [key, side] of Object.entries(value as Record<string, unknown>)) {
    if (side === null) continue;
    if (typeof side !== "string") {
      throw jsonTypeError(side, "Go struct field Resolution.sections of type string");
    }
    sections[key] = side;
  }
  return sections;
}

/** encoding/json's name of a JSON value's kind. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "bool";
    default:
      return "object";
  }
}

function jsonTypeError(value: unknown, target: string): GrpcError {
  return new GrpcError(Code.INTERNAL, `json: cannot unmarshal ${jsonKind(value)} into ${target}`);
}

/** encoding/json's syntax error wording, as far as it can be told from JSON.parse. */
function jsonSyntaxMessage(json: Uint8Array, error: unknown): string {
  const text = new TextDecoder().decode(json);
  if (text.trim() === "") return "unexpected end of JSON input";
  const message = (error as Error).message;
  const token = /Unexpected token '(.)'/.exec(message)?.[1] ??
    /Unexpected token (.)/.exec(message)?.[1];
  if (/end of JSON input|Unterminated/.test(message)) return "unexpected end of JSON input";
  if (token !== undefined) {
    return `invalid character '${token}' looking for beginning of value`;
  }
  return message;
}

/** The error Gitaly raises while parsing or resolving one conflicted file. */
export class ResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResolveError";
  }
}

/** Section kinds of a conflicted file's lines (ours lines are Gitaly's "new" side). */
const enum Section {
  None,
  Theirs,
  Ours,
  NoNewline,
}

/**
 * A line with the line numbers GitLab's line codes use: `old` counts the
 * lines of their version (our lines do not advance it), `new` those of
 * ours.
 */
interface Line {
  oldLine: number;
  newLine: number;
  payload: Uint8Array;
  section: Section;
}

/**
 * Lines of `data` as Gitaly's scanner yields them (split at LF, carriage
 * returns kept, a last line without LF included), with its limits: once
 * {@link FILE_LIMIT} bytes were consumed the file is unmergeable, and so is
 * a line of that length.
 */
function* scanLines(data: Uint8Array, path: string): Generator<Uint8Array> {
  let at = 0;
  while (true) {
    if (at >= FILE_LIMIT) throw new ResolveError("merging is not supported for file");
    if (at >= data.byteLength) return;
    const window = data.subarray(at, at + FILE_LIMIT);
    const newline = window.indexOf(LF);
    if (newline < 0) {
      if (window.byteLength >= FILE_LIMIT) throw unmergeable(path);
      yield window;
      at += window.byteLength;
      continue;
    }
    yield window.subarray(0, newline);
    at += newline + 1;
  }
}

function unmergeable(path: string): ResolveError {
  return new ResolveError(
    `resolve: parse conflict for ${JSON.stringify(path)}: merging is not supported for file`,
  );
}

/**
 * Resolves the conflicted blob `data` (its first bytes: at least
 * 2 × {@link FILE_LIMIT} + 1 when it is longer) with `resolution`, markers
 * labelled `ours` and `theirs`. `appendNewline` adds a final LF after
 * section picks (when our version of the file ends with one). Throws
 * {@link ResolveError} with Gitaly's messages.
 */
export function resolveConflictedFile(
  data: Uint8Array,
  ours: string,
  theirs: string,
  path: string,
  resolution: Resolution,
  appendNewline: boolean,
): Uint8Array {
  const start = encoder.encode(`<<<<<<< ${ours}`);
  const middle = encoder.encode("=======");
  const end = encoder.encode(`>>>>>>> ${theirs}`);
  const parseError = (what: string) =>
    new ResolveError(`resolve: parse conflict for ${JSON.stringify(path)}: ${what}`);

  let oldLine = 1;
  let newLine = 1;
  let section = Section.None;
  let consumed = false;
  const lines: Line[] = [];
  for (const payload of scanLines(data, path)) {
    consumed = true;
    if (bytesEqual(payload, start)) {
      if (section !== Section.None) throw parseError("unexpected conflict delimiter");
      section = Section.Ours;
    } else if (bytesEqual(payload, middle)) {
      if (section !== Section.Ours) throw parseError("unexpected conflict delimiter");
      section = Section.Theirs;
    } else if (bytesEqual(payload, end)) {
      if (section !== Section.Theirs) throw parseError("unexpected conflict delimiter");
      section = Section.None;
    } else if (payload.byteLength > 0 && payload[0] === 0x5c) { // "\"
      section = Section.NoNewline;
      lines.push({ oldLine, newLine, payload, section });
    } else {
      lines.push({ oldLine, newLine, payload, section });
      if (section !== Section.Ours) oldLine++;
      if (section !== Section.Theirs) newLine++;
    }
  }
  if (section === Section.Ours || section === Section.Theirs) {
    throw parseError("missing last delimiter");
  }
  if (!consumed) throw parseError("merging is not supported for file");

  if (Object.keys(resolution.sections).length === 0) return encoder.encode(resolution.content);

  const pathHash = createHash("sha1").update(path).digest("hex");
  const kept: Uint8Array[] = [];
  let sectionId = "";
  for (const line of lines) {
    if (line.section === Section.None) {
      sectionId = "";
      kept.push(line.payload);
      continue;
    }
    if (sectionId === "") sectionId = `${pathHash}_${line.oldLine}_${line.newLine}`;
    const pick = resolution.sections[sectionId];
    if (pick === "head") {
      if (line.section !== Section.Ours) continue;
    } else if (pick === "origin") {
      if (line.section !== Section.Theirs) continue;
    } else {
      throw new ResolveError(`Missing resolution for section ID: ${sectionId}`);
    }
    kept.push(line.payload);
  }
  const parts: Uint8Array[] = [];
  kept.forEach((line, i) => {
    if (i > 0) parts.push(NEWLINE);
    parts.push(line);
  });
  if (appendNewline) parts.push(NEWLINE);
  return concatBytes(parts);
}
