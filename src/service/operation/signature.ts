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
    name: decoder.decode(author?.name ?? new Uint8Array()),
    email: decoder.decode(author?.email ?? new Uint8Array()),
    seconds: author?.date?.seconds ?? Math.floor(Date.now() / 1000),
    offsetMinutes: zoneOffset(author?.timezone) ?? 0,
  };
}
