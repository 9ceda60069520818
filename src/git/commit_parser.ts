/**
 * Parsing of raw commit objects (the bytes `cat-file` prints) into the
 * fields of Gitaly's `GitCommit`, with the same rules as Gitaly's object
 * parser: header lines are `key value`, continuation lines (starting with a
 * space) are skipped, the first empty line starts the message; names,
 * e-mails and messages stay bytes (no re-encoding), the message is cut at
 * {@link MAX_COMMIT_OR_TAG_MESSAGE_SIZE} with `body_size` telling the full
 * size.
 *
 * @module
 */
import { SignatureType } from "../proto/types.ts";
import { concatBytes as concat } from "./command.ts";

/** Gitaly's cut for commit bodies and tag messages (`helper.MaxCommitOrTagMessageSize`). */
export const MAX_COMMIT_OR_TAG_MESSAGE_SIZE = 10 * 1024;

/**
 * The time Gitaly reports for an unparsable, negative or too large
 * timestamp: Go's largest `time.Time` in Unix seconds (as a JavaScript
 * number it is rounded to the nearest double).
 */
export const FALLBACK_TIMESTAMP = 9223371974719179006;

/** Largest timestamp Gitaly accepts (2^53). */
const MAX_UNIX_COMMIT_DATE = 2 ** 53;

/** An author, committer or tagger line, as Gitaly's `CommitAuthor`. */
export interface AuthorFields {
  name: Uint8Array;
  email: Uint8Array;
  /** Absent when the line has no timestamp. */
  date?: { seconds: number; nanos: number };
  /** E.g. `+0100`; empty unless the line ends in exactly `<seconds> <zone>`. */
  timezone: Uint8Array;
}

/** A trailer of a commit message (`Key: value`). */
export interface TrailerFields {
  key: Uint8Array;
  value: Uint8Array;
}

/** The `GitCommit` fields a raw commit object determines. */
export interface CommitFields {
  id: string;
  /** First line of the message without trailing CR/LF. */
  subject: Uint8Array;
  /** The message, cut at {@link MAX_COMMIT_OR_TAG_MESSAGE_SIZE}. */
  body: Uint8Array;
  /** Size of the whole message. */
  body_size: number;
  author: AuthorFields | null;
  committer: AuthorFields | null;
  parent_ids: string[];
  tree_id: string;
  signature_type: SignatureType;
  /** The `encoding` header's value, "" when absent. */
  encoding: string;
  /** Filled only by callers that ask for trailers. */
  trailers: TrailerFields[];
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const LT = 0x3c;
const GT = 0x3e;
const EMPTY = new Uint8Array(0);
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** One header line of an object: key and value (value without the LF). */
export interface HeaderLine {
  key: string;
  value: Uint8Array;
}

/**
 * Splits an object's header as Gitaly reads it: returns the `key value`
 * lines (continuation lines and lines without a space are left out, and so
 * are continuation lines when `skipContinuations`) and where the message
 * starts, or `messageStart: null` when the object has no empty line.
 */
export function splitHeader(
  raw: Uint8Array,
  skipContinuations: boolean,
): { lines: HeaderLine[]; messageStart: number | null } {
  const lines: HeaderLine[] = [];
  const messageStart = scanHeader(raw, skipContinuations, (start, space, end) => {
    lines.push({ key: ascii(raw.subarray(start, space)), value: raw.subarray(space + 1, end) });
  });
  return { lines, messageStart };
}

/**
 * The header scan of {@link splitHeader} without allocations: calls
 * `onLine` with where each `key value` line starts, its first space and
 * its end (the LF or the end of `raw`); returns where the message starts.
 */
function scanHeader(
  raw: Uint8Array,
  skipContinuations: boolean,
  onLine: (start: number, space: number, end: number) => void,
): number | null {
  let pos = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(LF, pos);
    const end = lf < 0 ? raw.length : lf;
    const start = pos;
    pos = lf < 0 ? raw.length : lf + 1;
    if (lf === start) return pos;
    if (skipContinuations && raw[start] === SPACE) continue;
    const space = raw.subarray(start, end).indexOf(SPACE);
    if (space >= 0) onLine(start, start + space, end);
  }
  return null;
}

/** Whether `raw[start..end)` is the ASCII text `key`. */
function isKey(raw: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (raw[start + i] !== key.charCodeAt(i)) return false;
  return true;
}

/** Latin-1 view of header bytes (object ids, type names): one char a byte. */
export function ascii(bytes: Uint8Array): string {
  // Short fields (object ids, keys) are cheaper to build in JavaScript than to decode.
  if (bytes.length > 128) return latin1.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/**
 * Parses `Name <email> 1700000000 +0100` as Gitaly does (lenient, never
 * fails). Name, e-mail and time zone are views into `line`.
 */
export function parseAuthor(line: Uint8Array): AuthorFields {
  const author: AuthorFields = { name: EMPTY, email: EMPTY, timezone: EMPTY };
  const lt = line.indexOf(LT);
  let nameEnd = lt < 0 ? line.length : lt;
  if (nameEnd > 0 && line[nameEnd - 1] === SPACE) nameEnd--;
  author.name = line.subarray(0, nameEnd);
  if (lt < 0) return author;
  const gt = line.indexOf(GT, lt + 1);
  if (gt < 0) return author;
  author.email = line.subarray(lt + 1, gt);
  // The whitespace-separated fields after the e-mail: the first two, and how many.
  let count = 0;
  let first: Uint8Array = EMPTY;
  let second: Uint8Array = EMPTY;
  for (let at = gt + 1; at < line.length;) {
    if (isFieldSpace(line[at])) {
      at++;
      continue;
    }
    const start = at;
    while (at < line.length && !isFieldSpace(line[at])) at++;
    if (count === 0) first = line.subarray(start, at);
    else if (count === 1) second = line.subarray(start, at);
    count++;
  }
  if (count < 1) return author;
  let seconds = unixSeconds(first);
  if (seconds === null || seconds > MAX_UNIX_COMMIT_DATE || seconds < 0) {
    seconds = FALLBACK_TIMESTAMP;
  }
  author.date = { seconds, nanos: 0 };
  if (count === 2) author.timezone = second.every((b) => b < 0x80) ? second : utf8(second);
  return author;
}

/** The separators of Go's `strings.Fields` over a Latin-1 view of the bytes. */
function isFieldSpace(byte: number): boolean {
  return byte === SPACE || (byte >= 0x09 && byte <= 0x0d) || byte === 0x85 || byte === 0xa0;
}

/** A Latin-1 field's UTF-8 encoding, as Gitaly's string round trip makes it. */
function utf8(latin1Bytes: Uint8Array): Uint8Array {
  return encoder.encode(latin1.decode(latin1Bytes));
}

/** The timestamp field as Go's `strconv.ParseInt`, with a fast path for plain digits. */
function unixSeconds(field: Uint8Array): number | null {
  if (field.length <= 15) {
    let value = 0;
    for (let i = 0; i < field.length; i++) {
      const digit = field[i] - 0x30;
      if (digit < 0 || digit > 9) return parseGoInt(ascii(field));
      value = value * 10 + digit;
    }
    return value;
  }
  return parseGoInt(ascii(field));
}

/** Go's `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, within int64. */
function parseGoInt(text: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  // Up to 15 digits is exact as a double and within int64: no BigInt needed.
  if (text.length <= 15) return Number(text);
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return Number(value);
}

/** The signature type of a signature's first line (`-----BEGIN PGP SIGNATURE-----`, …). */
export function detectSignatureType(firstLine: Uint8Array | string): SignatureType {
  const line = typeof firstLine === "string" ? firstLine : latin1.decode(firstLine);
  switch (line.endsWith("\n") ? line.slice(0, -1) : line) {
    case "-----BEGIN SIGNED MESSAGE-----":
      return SignatureType.X509;
    case "-----BEGIN PGP MESSAGE-----":
    case "-----BEGIN PGP SIGNATURE-----":
      return SignatureType.PGP;
    case "-----BEGIN SSH SIGNATURE-----":
      return SignatureType.SSH;
    default:
      return SignatureType.NONE;
  }
}

/** The subject Gitaly derives from a message: its first line without trailing CR and LF. */
export function subjectOf(message: Uint8Array): Uint8Array {
  const lf = message.indexOf(LF);
  let end = lf < 0 ? message.length : lf;
  while (end > 0 && (message[end - 1] === CR || message[end - 1] === LF)) end--;
  return message.subarray(0, end);
}

/**
 * Parses the raw commit object `raw` whose object id is `oid`; byte fields
 * are views into `raw`, which must not change afterwards.
 */
export function parseCommit(oid: string, raw: Uint8Array): CommitFields {
  const commit: CommitFields = {
    id: oid,
    subject: EMPTY,
    body: EMPTY,
    body_size: 0,
    author: null,
    committer: null,
    parent_ids: [],
    tree_id: "",
    signature_type: SignatureType.NONE,
    encoding: "",
    trailers: [],
  };
  const messageStart = scanHeader(raw, true, (start, space, end) => {
    const value = raw.subarray(space + 1, end);
    if (isKey(raw, start, space, "parent")) commit.parent_ids.push(ascii(value));
    else if (isKey(raw, start, space, "author")) commit.author = parseAuthor(value);
    else if (isKey(raw, start, space, "committer")) commit.committer = parseAuthor(value);
    else if (isKey(raw, start, space, "tree")) commit.tree_id = ascii(value);
    else if (isKey(raw, start, space, "gpgsig") || isKey(raw, start, space, "gpgsig-sha256")) {
      commit.signature_type = detectSignatureType(value);
    } else if (isKey(raw, start, space, "encoding")) commit.encoding = ascii(value);
  });
  if (messageStart !== null && messageStart < raw.length) {
    const body = raw.subarray(messageStart);
    commit.subject = subjectOf(body);
    commit.body_size = body.length;
    commit.body = body.subarray(0, MAX_COMMIT_OR_TAG_MESSAGE_SIZE);
  }
  return commit;
}

/** Gitaly's bounds on trailers: how many, and the longest key and value. */
const MAX_TRAILERS = 64;
const MAX_TRAILER_KEY_SIZE = 128;
const MAX_TRAILER_VALUE_SIZE = 512;

/**
 * Parses `Key: value` pairs separated by NUL, the output of
 * `git show --no-patch --format=%(trailers:unfold,separator=%x00)`, with
 * Gitaly's bounds: at most 64 trailers, parsing stops at a key over 128 or
 * a value over 512 bytes.
 */
export function parseTrailers(input: Uint8Array): TrailerFields[] {
  const trailers: TrailerFields[] = [];
  let start = 0;
  while (start < input.length && trailers.length < MAX_TRAILERS) {
    const nul = input.indexOf(0, start);
    const end = nul < 0 ? input.length : nul;
    const entry = input.subarray(start, end);
    const colon = entry.indexOf(0x3a);
    if (colon > 0) {
      const key = entry.slice(0, colon);
      const value = trimSpace(entry.subarray(colon + 1));
      if (key.length > MAX_TRAILER_KEY_SIZE || value.length > MAX_TRAILER_VALUE_SIZE) break;
      trailers.push({ key, value });
    }
    start = end + 1;
  }
  return trailers;
}

function isSpace(byte: number): boolean {
  return byte === SPACE || (byte >= 0x09 && byte <= 0x0d);
}

/** Go's `bytes.TrimSpace` for ASCII whitespace (a copy). */
export function trimSpace(bytes: Uint8Array): Uint8Array {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  return bytes.slice(start, end);
}

const GPGSIG = encoder.encode("gpgsig ");
const GPGSIG_SHA256 = encoder.encode("gpgsig-sha256 ");

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (bytes.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** A commit's signature and the text it signs. */
export interface CommitSignature {
  /** The signature, continuation spaces removed, without its last LF. */
  signature: Uint8Array;
  /** The commit object without the signature header: what the signature covers. */
  signedText: Uint8Array;
}

/**
 * Splits a signed commit into its signature (the first `gpgsig` or
 * `gpgsig-sha256` header with the header lines after it, continuation
 * spaces removed) and the signed text (everything else), as
 * GetCommitSignatures reports them; null when the commit's header has no
 * signature.
 */
export function extractCommitSignature(raw: Uint8Array): CommitSignature | null {
  let pos = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(LF, pos);
    if (lf === pos || lf < 0) return null;
    const prefix = startsWith(raw, GPGSIG, pos)
      ? GPGSIG
      : startsWith(raw, GPGSIG_SHA256, pos)
      ? GPGSIG_SHA256
      : null;
    if (prefix) {
      const parts: Uint8Array[] = [raw.subarray(pos + prefix.length, lf + 1)];
      // Every header line up to the message belongs to the signature (its
      // continuation space removed), also a second signature header, as
      // Gitaly 16.7 splits commits.
      let end = lf + 1;
      while (end < raw.length && raw[end] !== LF) {
        const next = raw.indexOf(LF, end);
        const stop = next < 0 ? raw.length : next + 1;
        parts.push(raw.subarray(raw[end] === SPACE ? end + 1 : end, stop));
        end = stop;
      }
      const signature = concat(parts);
      const signedText = concat([raw.subarray(0, pos), raw.subarray(end)]);
      const trimmed = signature.length > 0 && signature[signature.length - 1] === LF
        ? signature.subarray(0, signature.length - 1)
        : signature;
      return { signature: trimmed, signedText };
    }
    pos = lf + 1;
  }
  return null;
}
