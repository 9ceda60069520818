/**
 * The user's signature for an operation's commits: the request's
 * `timestamp` (or now) in the user's time zone; an unknown zone is
 * `InvalidArgument` with Go's wording (`unknown time zone Mars/Base`), as
 * Gitaly's `SignatureFromRequest` answers. And an existing commit's author
 * or committer as a signature, for commits that keep it.
 *
 * @module
 */
import type { AuthorFields } from "../../git/commit_parser.ts";
import {
  type Signature,
  signatureFromUser,
  type TimestampLike,
  UnknownTimezoneError,
  type UserLike,
} from "../../git/commit_writer.ts";
import { invalidArgument } from "../../server/errors.ts";

/** {@link signatureFromUser} with an unknown time zone as `InvalidArgument`. */
export function userSignature(
  user: UserLike | null | undefined,
  timestamp?: TimestampLike | null,
  now?: Date,
): Signature {
  try {
    return signatureFromUser(user, timestamp, now);
  } catch (err) {
    if (err instanceof UnknownTimezoneError) throw invalidArgument(err.message);
    throw err;
  }
}

const decoder = new TextDecoder();

/** The offset in minutes of a commit's `±hhmm` time zone, or undefined when it is not one. */
export function zoneOffset(zone: Uint8Array | undefined): number | undefined {
  const match = /^([+-])(\d{2})(\d{2})$/.exec(decoder.decode(zone ?? new Uint8Array()));
  if (!match) return undefined;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === "-" ? -minutes : minutes;
}

/**
 * A commit's author or committer as a signature, as Gitaly's
 * `getSignatureFromCommitAuthor`: its date in its own zone when that is
 * `±hhmm`, else in UTC (and now when it has no date).
 */
export function commitSignature(author: AuthorFields | null): Signature {
  return {
    name: gitUtf8(author?.name ?? new Uint8Array()),
    email: gitUtf8(author?.email ?? new Uint8Array()),
    seconds: author?.date?.seconds ?? Math.floor(Date.now() / 1000),
    offsetMinutes: zoneOffset(author?.timezone) ?? 0,
  };
}
/**
 * `bytes` as the text git ends up writing for them: Gitaly hands an
 * author's raw bytes to `git commit-tree`, which rewrites every byte that
 * is not part of valid UTF-8 as the Latin-1 character it would be (git's
 * `verify_utf8`); the environment here takes only text, so the rewriting
 * is done before.
 */
export function gitUtf8(bytes: Uint8Array): string {
  let out = "";
  let at = 0;
  while (at < bytes.length) {
    const length = utf8SequenceLength(bytes, at);
    if (length === 0) {
      out += String.fromCharCode(bytes[at]);
      at++;
    } else {
      out += decoder.decode(bytes.subarray(at, at + length));
      at += length;
    }
  }
  return out;
}

const MAX_CODEPOINT = [0x7f, 0x7ff, 0xffff, 0x10ffff];

/** The length of the valid UTF-8 sequence at `at` by git's rules, or 0 when it is invalid. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  let c = bytes[at];
  if (c < 0x80) return 1;
  let more = 0;
  while (c & 0x40) {
    c = (c << 1) & 0xff;
    more++;
  }
  if (more < 1 || more > 3 || at + more >= bytes.length) return 0;
  let codepoint = (c & 0x7f) >> more;
  for (let i = 1; i <= more; i++) {
    const next = bytes[at + i];
    if ((next & 0xc0) !== 0x80) return 0;
    codepoint = (codepoint << 6) | (next & 0x3f);
  }
  if (codepoint <= MAX_CODEPOINT[more - 1] || codepoint > MAX_CODEPOINT[more]) return 0;
  if ((codepoint & 0x1ff800) === 0xd800) return 0;
  if ((codepoint & 0xfffe) === 0xfffe) return 0;
  if (codepoint >= 0xfdd0 && codepoint <= 0xfdef) return 0;
  return more + 1;
}
