/**
 * A hand-written protobuf encoder for `gitaly.GitCommit`, the message
 * commit listings send thousands of: the bytes protobufjs would write for
 * the same object (fields in number order, proto3 defaults left out) at a
 * fraction of the cost, with no intermediate message instance. Its length
 * is Go's `proto.Size` of the commit, which is what Gitaly's chunker sizes
 * batches by.
 *
 * @module
 */
import type { CommitAuthor, CommitStatInfo, CommitTrailer, GitCommit, Init } from "./types.ts";

const encoder = new TextEncoder();
const LENGTH_DELIMITED = 2;

/** Encodings are cut from shared blocks of this size: one allocation for many commits. */
const BLOCK_SIZE = 256 * 1024;
let block = new Uint8Array(0);
let blockUsed = 0;

/**
 * The encoding of one `GitCommit`: a view the caller owns (nothing else
 * writes to it), possibly sharing its buffer with other encodings.
 */
export function encodeGitCommit(commit: Init<GitCommit>): Uint8Array {
  const size = commitSize(commit);
  let out: Uint8Array;
  if (size > BLOCK_SIZE / 4) {
    out = new Uint8Array(size);
  } else {
    if (blockUsed + size > block.byteLength) {
      block = new Uint8Array(BLOCK_SIZE);
      blockUsed = 0;
    }
    out = block.subarray(blockUsed, blockUsed + size);
    blockUsed += size;
  }
  writeCommit(new Writer(out), commit);
  return out;
}

/** Go's `proto.Size` of a `GitCommit`: the length of {@link encodeGitCommit}'s result. */
function commitSize(c: Init<GitCommit>): number {
  let size = stringSize(c.id) + bytesSize(c.subject) + bytesSize(c.body);
  if (c.author) size += messageSize(authorSize(c.author));
  if (c.committer) size += messageSize(authorSize(c.committer));
  for (const parent of c.parent_ids ?? []) size += 1 + lengthDelimitedSize(utf8Length(parent));
  size += varintFieldSize(c.body_size) + varintFieldSize(c.signature_type);
  size += stringSize(c.tree_id);
  for (const trailer of c.trailers ?? []) size += messageSize(trailerSize(trailer));
  if (c.short_stats) size += messageSize(statsSize(c.short_stats));
  for (const ref of c.referenced_by ?? []) size += 1 + lengthDelimitedSize(ref.byteLength);
  return size + stringSize(c.encoding);
}

function writeCommit(w: Writer, c: Init<GitCommit>): void {
  w.string(1, c.id);
  w.bytes(2, c.subject);
  w.bytes(3, c.body);
  if (c.author) writeAuthor(w, 4, c.author);
  if (c.committer) writeAuthor(w, 5, c.committer);
  for (const parent of c.parent_ids ?? []) w.string(6, parent, true);
  w.varint(7, c.body_size);
  w.varint(8, c.signature_type);
  w.string(9, c.tree_id);
  for (const trailer of c.trailers ?? []) {
    w.tag(10, LENGTH_DELIMITED);
    w.uint(trailerSize(trailer));
    w.bytes(1, trailer?.key);
    w.bytes(2, trailer?.value);
  }
  if (c.short_stats) {
    const stats = c.short_stats;
    w.tag(11, LENGTH_DELIMITED);
    w.uint(statsSize(stats));
    w.varint(1, stats.additions);
    w.varint(2, stats.deletions);
    w.varint(3, stats.changed_files);
  }
  for (const ref of c.referenced_by ?? []) w.bytes(12, ref, true);
  w.string(13, c.encoding);
}

function authorSize(a: Init<CommitAuthor>): number {
  let size = bytesSize(a.name) + bytesSize(a.email) + bytesSize(a.timezone);
  if (a.date) size += messageSize(varintFieldSize(a.date.seconds) + varintFieldSize(a.date.nanos));
  return size;
}

function writeAuthor(w: Writer, field: number, a: Init<CommitAuthor>): void {
  w.tag(field, LENGTH_DELIMITED);
  w.uint(authorSize(a));
  w.bytes(1, a.name);
  w.bytes(2, a.email);
  if (a.date) {
    w.tag(3, LENGTH_DELIMITED);
    w.uint(varintFieldSize(a.date.seconds) + varintFieldSize(a.date.nanos));
    w.varint(1, a.date.seconds);
    w.varint(2, a.date.nanos);
  }
  w.bytes(4, a.timezone);
}

function trailerSize(t: Init<CommitTrailer> | null): number {
  return t ? bytesSize(t.key) + bytesSize(t.value) : 0;
}

function statsSize(s: Init<CommitStatInfo>): number {
  return varintFieldSize(s.additions) + varintFieldSize(s.deletions) +
    varintFieldSize(s.changed_files);
}

/** A field of a message of `size` bytes with its tag (fields 1–15: one tag byte). */
function messageSize(size: number): number {
  return 1 + lengthDelimitedSize(size);
}

function lengthDelimitedSize(length: number): number {
  return uintSize(length) + length;
}

function bytesSize(bytes: Uint8Array | undefined): number {
  return bytes && bytes.byteLength > 0 ? 1 + lengthDelimitedSize(bytes.byteLength) : 0;
}

function stringSize(text: string | undefined): number {
  return text ? 1 + lengthDelimitedSize(utf8Length(text)) : 0;
}

function varintFieldSize(value: number | undefined): number {
  return value ? 1 + varintBytes(value) : 0;
}

/** Bytes of `value` as an int64/int32 varint (negative numbers take ten). */
function varintBytes(value: number): number {
  if (value < 0) return 10;
  if (value > Number.MAX_SAFE_INTEGER) {
    let size = 1;
    for (let big = BigInt(value); big >= 0x80n; big >>= 7n) size++;
    return size;
  }
  return uintSize(value);
}

function uintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** UTF-8 length of `text` (object ids and encodings are almost always ASCII). */
function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return encoder.encode(text).byteLength;
  }
  return text.length;
}

/** Writes fields into a buffer of the exact final size: every byte of it. */
class Writer {
  #at = 0;

  /** Writes into `out`, which has exactly the encoding's size. */
  constructor(readonly out: Uint8Array) {}

  /** A field tag (field numbers below 16 take one byte). */
  tag(field: number, wireType: number): void {
    this.out[this.#at++] = (field << 3) | wireType;
  }

  /** A non-negative varint. */
  uint(value: number): void {
    while (value >= 0x80) {
      this.out[this.#at++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.out[this.#at++] = value;
  }

  /** An int64/int32 field, left out when zero. */
  varint(field: number, value: number | undefined): void {
    if (!value) return;
    this.tag(field, 0);
    if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      this.uint(value);
      return;
    }
    let big = BigInt.asUintN(64, BigInt(value));
    while (big >= 0x80n) {
      this.out[this.#at++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.out[this.#at++] = Number(big);
  }

  /** A length-delimited field holding `bytes`. */
  #delimited(field: number, bytes: Uint8Array): void {
    this.tag(field, LENGTH_DELIMITED);
    this.uint(bytes.byteLength);
    this.out.set(bytes, this.#at);
    this.#at += bytes.byteLength;
  }

  /** A bytes field, left out when empty unless it is an element of a repeated field. */
  bytes(field: number, bytes: Uint8Array | undefined, repeated = false): void {
    if (bytes && (repeated || bytes.byteLength > 0)) this.#delimited(field, bytes);
  }

  /** A string field, left out when empty unless it is an element of a repeated field. */
  string(field: number, text: string | undefined, repeated = false): void {
    if (text === undefined || (!repeated && text === "")) return;
    const start = this.#at;
    this.tag(field, LENGTH_DELIMITED);
    this.uint(text.length);
    // ASCII (the usual case) is written as it is checked; anything else is
    // written again from the start, UTF-8 encoded.
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.#at = start;
        this.#delimited(field, encoder.encode(text));
        return;
      }
      this.out[this.#at++] = c;
    }
  }
}
