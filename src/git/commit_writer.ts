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
  /**
   * A date for git to parse instead of `seconds`/`offsetMinutes` (e.g. an
   * email's RFC 2822 `Date:`, as `git am` takes the author date).
   */
  rawDate?: string;
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
  name?: Uint8Array | string | ArrayLike<number>;
  email?: Uint8Array | string | ArrayLike<number>;
  timezone?: string;
}

/** A `google.protobuf.Timestamp` as decoded. */
export interface TimestampLike {
  seconds?: number | bigint | string | unknown;
  nanos?: number;
}

const decoder = new TextDecoder();

function str(value: Uint8Array | string | ArrayLike<number> | undefined | null): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return decoder.decode(value instanceof Uint8Array ? value : Uint8Array.from(value));
}

/** Gitaly's `NewSignature` drops newlines and angle brackets from names and emails. */
function sanitize(text: string): string {
  return text.replace(/[\n<>]/g, "");
}

/**
 * The signature of `user` for an operation: the request's `timestamp` (or
 * now) in the user's time zone, as Gitaly's `dateFromProto` gives it, and
 * name and email without newlines and angle brackets (its `NewSignature`).
 * Throws {@link UnknownTimezoneError} for a zone Go does not know.
 */
export function signatureFromUser(
  user: UserLike | null | undefined,
  timestamp?: TimestampLike | null,
  now: Date = new Date(),
): Signature {
  const seconds = timestamp ? Number(timestamp.seconds ?? 0) : Math.floor(now.getTime() / 1000);
  return {
    name: sanitize(str(user?.name)),
    email: sanitize(str(user?.email)),
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

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The date as Gitaly hands it to git (Go's `Mon Jan 2 2006 15:04:05
 * -0700` in the signature's zone), so git parses, and refuses, exactly
 * the dates Gitaly's git does: a raw `<seconds> <zone>` of fewer than nine
 * digits is not read as seconds, and a local time before 1970 is refused.
 */
export function envDate(signature: Pick<Signature, "seconds" | "offsetMinutes">): string {
  const local = new Date((signature.seconds + signature.offsetMinutes * 60) * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${
    two(local.getUTCSeconds())
  }`;
  const zone = gitDate(signature).split(" ")[1];
  return `${DAYS[local.getUTCDay()]} ${MONTHS[local.getUTCMonth()]} ${local.getUTCDate()} ${
    String(local.getUTCFullYear()).padStart(4, "0")
  } ${time} ${zone}`;
}

/**
 * The environment that makes git use `author` and `committer` (dates: a
 * signature's `rawDate`, else {@link envDate}).
 */
export function signatureEnv(author: Signature, committer: Signature): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: author.rawDate ?? envDate(author),
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: committer.rawDate ?? envDate(committer),
  };
}

/** Gitaly's sanitizing of a signature: no line feeds and no angle brackets. */
function sanitized(signature: Signature): Signature {
  return { ...signature, name: sanitize(signature.name), email: sanitize(signature.email) };
}

/**
 * Characters git strips from both ends of a name or email (git 2.42's
 * `crud()`; git 2.39 also strips `.`, which 2.42 keeps).
 */
function isCrud(char: string): boolean {
  return char <= " " || ",:;<>\"\\'".includes(char);
}

/** `text` as git 2.42 writes it into an ident line: crud stripped from both ends. */
function withoutCrud(text: string): string {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (start < end && isCrud(chars[start])) start++;
  while (end > start && isCrud(chars[end - 1])) end--;
  return chars.slice(start, end).join("");
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
 * returns its object id. Names and emails lose line feeds and angle
 * brackets (Gitaly's sanitizing) and then crud at both ends as the
 * reference's git 2.42 strips it; a name of crud only is
 * {@link DisallowedCharactersError}. Git 2.39 would also strip dots at
 * the ends (`Jane Doe Jr.`): such commits are written with placeholder
 * idents and then rewritten with the right ones (`git hash-object`), so
 * the bytes are 2.42's. A missing tree or author name is a caller's bug.
 */
export async function writeCommit(
  git: GitRunner,
  gitDir: string,
  options: WriteCommitOptions,
): Promise<string> {
  if (!options.tree) throw new Error("missing tree");
  const author = sanitized(options.author);
  const committer = sanitized(options.committer);
  if (!author.name) throw new Error("missing author name");
  if (!committer.name) throw new Error("missing committer name");
  for (const oid of [options.tree, ...options.parents ?? []]) {
    if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(oid)) throw new Error(`not an object id: ${oid}`);
  }
  const idents = [author, committer].map((sig) => {
    const name = withoutCrud(sig.name);
    if (!name) throw new DisallowedCharactersError();
    return { ...sig, name, email: withoutCrud(sig.email) };
  });
  const dotted = idents.some(({ name, email }) => /^\.|\.$/.test(name) || /^\.|\.$/.test(email));
  if (!dotted) return await commitTree(git, gitDir, options, author, committer);
  const placeholder = { name: "x", email: "x" };
  const draft = await commitTree(
    git,
    gitDir,
    options,
    { ...author, ...placeholder },
    { ...committer, ...placeholder },
  );
  const raw = await git.runOk({
    gitDir,
    command: { name: "cat-file", args: ["commit", draft] },
    env: options.env,
    signal: options.signal,
  });
  return await rewriteIdents(git, gitDir, options, raw.stdout, idents);
}

/** `git commit-tree` of `options` by `author` and `committer`; returns the commit's id. */
async function commitTree(
  git: GitRunner,
  gitDir: string,
  options: WriteCommitOptions,
  author: Signature,
  committer: Signature,
): Promise<string> {
  // Stuck forms: every flag starts with `-` (commit-tree parses options).
  const flags = (options.parents ?? []).map((parent) => `-p${parent}`);
  const message = typeof options.message === "string"
    ? new TextEncoder().encode(options.message)
    : options.message;
  const result = await git.run({
    gitDir,
    command: { name: "commit-tree", flags: [...flags, "-F-"], args: [options.tree] },
    env: { ...options.env, ...signatureEnv(author, committer) },
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

/**
 * Writes the commit `raw` (as commit-tree wrote it) with its author and
 * committer lines replaced by `idents` ([author, committer]); returns its id.
 */
async function rewriteIdents(
  git: GitRunner,
  gitDir: string,
  options: WriteCommitOptions,
  raw: Uint8Array,
  idents: Signature[],
): Promise<string> {
  const end = indexOfBlankLine(raw);
  const header = decoder.decode(raw.subarray(0, end)).split("\n").map((line) => {
    const key = line.startsWith("author ") ? 0 : line.startsWith("committer ") ? 1 : -1;
    if (key < 0) return line;
    const { name, email } = idents[key];
    // The date as git wrote it (it may have parsed a raw one).
    const date = line.slice(line.lastIndexOf("> ") + 2);
    return `${key === 0 ? "author" : "committer"} ${name} <${email}> ${date}`;
  }).join("\n");
  const head = new TextEncoder().encode(header);
  const object = new Uint8Array(head.length + raw.length - end);
  object.set(head);
  object.set(raw.subarray(end), head.length);
  const result = await git.runOk({
    gitDir,
    command: { name: "hash-object", flags: ["-tcommit", "-w", "--stdin"] },
    env: options.env,
    stdin: object,
    signal: options.signal,
  });
  return decoder.decode(result.stdout).trim();
}

/** Where the header of an object ends (its first empty line), or its length. */
function indexOfBlankLine(raw: Uint8Array): number {
  for (let i = 0; i + 1 < raw.length; i++) {
    if (raw[i] === 0x0a && raw[i + 1] === 0x0a) return i;
  }
  return raw.length;
}
