/**
 * Writing commits the way Gitaly writes them: `git commit-tree` with the
 * tree, one `-p` per parent and the message on stdin, and the author and
 * committer given through `GIT_AUTHOR_*` / `GIT_COMMITTER_*` with dates as
 * `<unix seconds> <+hhmm>`. Given the same signature and message the commit
 * is byte-identical to Gitaly's, so its object id is too.
 *
 * @module
 */
import type { GitRunner } from "./command.ts";

/** Who made a change, and when (in their time zone). */
export interface Signature {
  name: string;
  email: string;
  /** Seconds since the Unix epoch. */
  seconds: number;
  /** The time zone's offset from UTC at that moment, in minutes (east positive). */
  offsetMinutes: number;
}

/** A `User` message's time zone that Go's `time.LoadLocation` would refuse. */
export class UnknownTimezoneError extends Error {
  /** Builds the error with Go's wording. */
  constructor(readonly timezone: string) {
    super(`unknown time zone ${timezone}`);
    this.name = "UnknownTimezoneError";
  }
}

/** git refused a name or email made only of characters it strips (`.`, `,`, `<`, ...). */
export class DisallowedCharactersError extends Error {
  /** Builds the error with Gitaly's wording. */
  constructor() {
    super("disallowed characters");
    this.name = "DisallowedCharactersError";
  }
}

/**
 * The offset from UTC, in minutes, of `timezone` (an IANA name; `""` and
 * `"UTC"` are UTC, as for Go) at `seconds`.
 */
export function timezoneOffset(timezone: string, seconds: number): number {
  if (timezone === "" || timezone === "UTC") return 0;
  if (timezone === "Local") return -new Date(seconds * 1000).getTimezoneOffset();
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
      .formatToParts(new Date(seconds * 1000));
  } catch {
    throw new UnknownTimezoneError(timezone);
  }
  const name = parts.find((part) => part.type === "timeZoneName")?.value ?? "GMT";
  const match = /^GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (!match) throw new UnknownTimezoneError(timezone);
  if (!match[1]) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === "-" ? -minutes : minutes;
}

/** The request fields Gitaly's `dateFromProto` reads. */
export interface UserLike {
  name?: Uint8Array | string;
  email?: Uint8Array | string;
  timezone?: string;
}

/** A `google.protobuf.Timestamp` as decoded. */
export interface TimestampLike {
  seconds?: number | bigint | string | unknown;
  nanos?: number;
}

const decoder = new TextDecoder();

function str(value: Uint8Array | string | undefined): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : decoder.decode(value);
}

/**
 * The signature of `user` for an operation: the request's `timestamp` (or
 * now) in the user's time zone, as Gitaly's `dateFromProto` gives it.
 * Throws {@link UnknownTimezoneError} for a zone Go does not know.
 */
export function signatureFromUser(
  user: UserLike | null | undefined,
  timestamp?: TimestampLike | null,
  now: Date = new Date(),
): Signature {
  const seconds = timestamp ? Number(timestamp.seconds ?? 0) : Math.floor(now.getTime() / 1000);
  return {
    name: str(user?.name),
    email: str(user?.email),
    seconds,
    offsetMinutes: user ? timezoneOffset(user.timezone ?? "", seconds) : localOffset(seconds),
  };
}

function localOffset(seconds: number): number {
  return -new Date(seconds * 1000).getTimezoneOffset();
}

/** `<seconds> <+hhmm>`, git's raw date format (Go's `"%d " + Format("-0700")`). */
export function gitDate(signature: Pick<Signature, "seconds" | "offsetMinutes">): string {
  const offset = signature.offsetMinutes;
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, "0")}${
    String(abs % 60).padStart(2, "0")
  }`;
  return `${signature.seconds} ${offset < 0 ? "-" : "+"}${hhmm}`;
}

/** The environment that makes git use `author` and `committer`. */
export function signatureEnv(author: Signature, committer: Signature): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: gitDate(author),
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: gitDate(committer),
  };
}

/** What {@link writeCommit} writes. */
export interface WriteCommitOptions {
  /** The tree's object id. */
  tree: string;
  parents?: readonly string[];
  author: Signature;
  committer: Signature;
  /** Written as given: git's commit-tree adds nothing and strips nothing. */
  message: string | Uint8Array;
  /** Extra environment, e.g. a quarantine's object directories. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Writes a commit with `git commit-tree` (Gitaly's `WriteCommit`) and
 * returns its object id. Throws {@link DisallowedCharactersError} when git
 * refuses a name; a missing tree or author name is a caller's bug.
 */
export async function writeCommit(
  git: GitRunner,
  gitDir: string,
  options: WriteCommitOptions,
): Promise<string> {
  if (!options.tree) throw new Error("missing tree");
  if (!options.author.name) throw new Error("missing author name");
  if (!options.committer.name) throw new Error("missing committer name");
  for (const oid of [options.tree, ...options.parents ?? []]) {
    if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(oid)) throw new Error(`not an object id: ${oid}`);
  }
  // Stuck forms: every flag starts with `-` (commit-tree parses options).
  const flags = (options.parents ?? []).map((parent) => `-p${parent}`);
  const message = typeof options.message === "string"
    ? new TextEncoder().encode(options.message)
    : options.message;
  const result = await git.run({
    gitDir,
    command: { name: "commit-tree", flags: [...flags, "-F-"], args: [options.tree] },
    env: { ...options.env, ...signatureEnv(options.author, options.committer) },
    stdin: message,
    signal: options.signal,
  });
  if (result.code !== 0) {
    if (result.stderr.includes("name consists only of disallowed characters")) {
      throw new DisallowedCharactersError();
    }
    throw new Error(`commit-tree: exit status ${result.code}: ${result.stderr.trim()}`);
  }
  return decoder.decode(result.stdout).trim();
}
