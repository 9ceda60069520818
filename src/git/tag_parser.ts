/**
 * Parsing of raw annotated tag objects into the fields of Gitaly's `Tag`,
 * with Gitaly's rules: the name from the `tag` header unless the caller
 * names the tag (by its reference), the whole message with `message_size`,
 * the signature type from a signature block in the message; and the
 * signature/payload split GetTagSignatures reports.
 *
 * @module
 */
import { SignatureType } from "../proto/types.ts";
import type { AuthorFields, CommitFields } from "./commit_parser.ts";
import {
  ascii,
  detectSignatureType,
  MAX_COMMIT_OR_TAG_MESSAGE_SIZE,
  parseAuthor,
  splitHeader,
} from "./commit_parser.ts";

/** The `Tag` fields a raw tag object determines (`target_commit` is the caller's). */
export interface TagFields {
  name: Uint8Array;
  id: string;
  message: Uint8Array;
  message_size: number;
  tagger: AuthorFields | null;
  signature_type: SignatureType;
  target_commit?: CommitFields | null;
}

/** A parsed tag and the object it points at. */
export interface ParsedTag {
  tag: TagFields;
  /** The `object` header (empty when missing). */
  targetOid: string;
  /** The `type` header: `commit`, `tag`, `tree` or `blob` (empty when missing). */
  targetType: string;
}

const EMPTY = new Uint8Array(0);
const LF = 0x0a;
const BEGIN = new TextEncoder().encode("-----BEGIN");

/**
 * Parses the raw tag object `raw` whose object id is `oid`. `name` (the
 * reference's name, which may differ from the object's `tag` header) wins
 * over the header when non-empty. The message is whole; see
 * {@link trimTagMessage}.
 */
export function parseTag(oid: string, raw: Uint8Array, name?: Uint8Array): ParsedTag {
  const tag: TagFields = {
    name: name && name.length > 0 ? name : EMPTY,
    id: oid,
    message: EMPTY,
    message_size: 0,
    tagger: null,
    signature_type: SignatureType.NONE,
  };
  let targetOid = "";
  let targetType = "";
  const { lines, messageStart } = splitHeader(raw, false);
  for (const { key, value } of lines) {
    switch (key) {
      case "object":
        targetOid = ascii(value);
        break;
      case "type":
        targetType = ascii(value);
        break;
      case "tag":
        if (tag.name.length === 0) tag.name = value.slice();
        break;
      case "tagger":
        tag.tagger = parseAuthor(value);
        break;
    }
  }
  if (messageStart !== null) {
    const message = raw.slice(messageStart);
    tag.message = message;
    tag.message_size = message.length;
    const { signature } = extractTagSignature(message);
    if (signature) {
      const lf = signature.indexOf(LF);
      if (lf > 0) tag.signature_type = detectSignatureType(signature.subarray(0, lf));
    }
  }
  return { tag, targetOid, targetType };
}

/**
 * Gitaly's `TrimTagMessage`: drops trailing LFs, sets `message_size` to the
 * size after that, then cuts the message at
 * {@link MAX_COMMIT_OR_TAG_MESSAGE_SIZE}.
 */
export function trimTagMessage(tag: TagFields): void {
  let end = tag.message.length;
  while (end > 0 && tag.message[end - 1] === LF) end--;
  tag.message_size = end;
  tag.message = tag.message.subarray(0, Math.min(end, MAX_COMMIT_OR_TAG_MESSAGE_SIZE));
}

/** A tag's (or tag message's) signature and the rest. */
export interface TagSignature {
  /** From the first `-----BEGIN` to the end, without one trailing LF; null when unsigned. */
  signature: Uint8Array | null;
  /** What comes before the signature (all of `content` when unsigned). */
  payload: Uint8Array;
}

/**
 * Splits `content` (a raw tag or its message) at the first `-----BEGIN`
 * that is not at its very start, as Gitaly's `ExtractTagSignature`.
 */
export function extractTagSignature(content: Uint8Array): TagSignature {
  const index = indexOf(content, BEGIN);
  if (index > 0) {
    let end = content.length;
    if (content[end - 1] === LF) end--;
    return { signature: content.subarray(index, end), payload: content.subarray(0, index) };
  }
  return { signature: null, payload: content };
}

/** First index of `needle` in `haystack`, or -1. */
export function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (
    let i = haystack.indexOf(first, from);
    i >= 0 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
