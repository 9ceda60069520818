/**
 * Object formats (SHA-1, SHA-256), object id validation and detection of a
 * repository's format.
 *
 * @module
 */

import type { GitRunner } from "./command.ts";
import { goQuote, goQuoteRune } from "./goquote.ts";

/** The object formats git supports. */
export type ObjectFormat = "sha1" | "sha256";

/** Facts about one object format. */
export interface ObjectHash {
  readonly format: ObjectFormat;
  /** Length of an object id in hex digits. */
  readonly hexLength: number;
  /** Length of an object id in bytes. */
  readonly rawLength: number;
  /** The all-zero id git uses for "no object" (e.g. a ref creation's old value). */
  readonly zeroOid: string;
  /** Id of the empty tree. */
  readonly emptyTreeOid: string;
}

/** SHA-1, the default format. */
export const SHA1: ObjectHash = Object.freeze({
  format: "sha1",
  hexLength: 40,
  rawLength: 20,
  zeroOid: "0".repeat(40),
  emptyTreeOid: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
});

/** SHA-256. */
export const SHA256: ObjectHash = Object.freeze({
  format: "sha256",
  hexLength: 64,
  rawLength: 32,
  zeroOid: "0".repeat(64),
  emptyTreeOid: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
});

/** Looks up an object format by name (as git prints it); throws on unknown names. */
export function objectHash(format: string): ObjectHash {
  if (format === "sha1") return SHA1;
  if (format === "sha256") return SHA256;
  throw new InvalidObjectIdError(`unknown object format ${JSON.stringify(format)}`);
}

/** An object id or format that is not valid. */
export class InvalidObjectIdError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidObjectIdError";
  }
}

const LOWER_HEX = /^[0-9a-f]+$/;

/**
 * True when `oid` is a full, lower-case hex object id of `hash`'s format,
 * or of either format when `hash` is omitted.
 */
export function isValidOid(oid: string, hash?: ObjectHash): boolean {
  const lengthOk = hash
    ? oid.length === hash.hexLength
    : oid.length === SHA1.hexLength || oid.length === SHA256.hexLength;
  return lengthOk && LOWER_HEX.test(oid);
}

/** Throws {@link InvalidObjectIdError} unless {@link isValidOid} holds. */
export function validateOid(oid: string, hash?: ObjectHash): void {
  if (!isValidOid(oid, hash)) {
    const what = hash ? `${hash.format} object id` : "object id";
    throw new InvalidObjectIdError(`invalid ${what}: ${JSON.stringify(oid)}`);
  }
}

/** True when `oid` is the zero id of its length. */
export function isZeroOid(oid: string): boolean {
  return (oid.length === SHA1.hexLength || oid.length === SHA256.hexLength) && /^0+$/.test(oid);
}

/** The format an object id of this length belongs to, if any. */
export function formatOfOid(oid: string): ObjectHash | undefined {
  if (!LOWER_HEX.test(oid)) return undefined;
  if (oid.length === SHA1.hexLength) return SHA1;
  if (oid.length === SHA256.hexLength) return SHA256;
  return undefined;
}

/** Asks git for the repository's format (`git rev-parse --show-object-format`). */
export async function detectObjectFormat(runner: GitRunner, repoPath: string): Promise<ObjectHash> {
  const name = await runner.runText({
    gitDir: repoPath,
    args: ["rev-parse", "--show-object-format"],
  });
  return objectHash(name.trim());
}

/**
 * Reads the format from the repository's `config` file without spawning git:
 * `extensions.objectFormat`, SHA-1 when absent. Git itself only looks at the
 * repository's own config file for extensions, so includes are not followed.
 */
export async function readObjectFormat(repoPath: string): Promise<ObjectHash> {
  const text = await Deno.readTextFile(`${repoPath}/config`);
  return objectHash(objectFormatFromConfig(text) ?? "sha1");
}

/**
 * Finds `extensions.objectformat` in the text of a git config file.
 * Section and key names are case-insensitive; the last value wins.
 */
export function objectFormatFromConfig(configText: string): string | undefined {
  let inExtensions = false;
  let found: string | undefined;
  for (const rawLine of configText.split("\n")) {
    const line = stripComment(rawLine).trim();
    if (line.startsWith("[")) {
      inExtensions = /^\[\s*extensions\s*\]$/i.test(line);
      continue;
    }
    if (!inExtensions) continue;
    const match = /^objectformat\s*=\s*(.*)$/i.exec(line);
    if (match) found = match[1].replace(/^"(.*)"$/, "$1").trim().toLowerCase();
  }
  return found;
}

function stripComment(line: string): string {
  const match = /^[^#;"]*(?:"[^"]*"[^#;"]*)*/.exec(line);
  return match ? match[0] : line;
}

/**
 * Why `hex` is not an object id of `hash`'s format, in Gitaly's words
 * (`invalid object ID: "abc", expected length 40, got 3`), or `undefined`
 * when it is one. Only lower-case hex digits are accepted.
 */
export function hexProblem(hex: string, hash: ObjectHash): string | undefined {
  const length = new TextEncoder().encode(hex).length; // Go counts bytes
  if (length !== hash.hexLength) {
    return `invalid object ID: ${goQuote(hex)}, expected length ${hash.hexLength}, got ${length}`;
  }
  for (const c of hex) {
    if (!/[0-9a-f]/.test(c)) {
      return `invalid object ID: ${goQuote(hex)}, invalid character ${goQuoteRune(c)}`;
    }
  }
  return undefined;
}
