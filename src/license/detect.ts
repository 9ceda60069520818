/**
 * License detection over a file tree, as go-license-detector's `Detect` does it: files
 * whose base name looks like a license (LICENSE, COPYING, LEGAL, UNLICENSE, GPL, BSD, MIT,
 * APACHE, ... with any prefix/suffix after `-_. `) are read, a short file (< 128 bytes)
 * naming another file is followed to it, Markdown/RST/HTML are turned into text, and each
 * text is matched against the database. The best similarity of each license wins, with
 * the file that gave it.
 *
 * @module
 */

import { licenseDatabase } from "./database.ts";
import { preprocessorFor } from "./markup.ts";

export { SIMILARITY_THRESHOLD } from "./database.ts";

/** Read access to a tree: its root file names and file contents. */
export interface LicenseFiler {
  /** Names of the files to consider (the tree's root). */
  readDir(): Promise<string[]>;
  /** A file's bytes, or undefined when there is no such file. */
  readFile(path: string): Promise<Uint8Array | undefined>;
}

/** One detected license: its best similarity (float32, 0..1) and the file it came from. */
export interface LicenseMatch {
  confidence: number;
  file: string;
}

const LICENSE_NAMES = [
  "li[cs]en[cs]e(s?)",
  "legal",
  "copy(left|right|ing)",
  "unlicense",
  "l?gpl([-_ v]?)(\\d\\.?\\d)?",
  "bsd",
  "mit",
  "apache",
];
const licenseFileRe = new RegExp(`^(|.*[-_. ])(${LICENSE_NAMES.join("|")})(|[-_. ].*)$`, "su");
const SHORT_FILE = 128;

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path === "" ? "." : "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function extension(path: string): string {
  for (let i = path.length - 1; i >= 0 && path[i] !== "/"; i--) {
    if (path[i] === ".") return path.slice(i);
  }
  return "";
}

/** Whether a file name looks like a license file. */
export function isLicenseFileName(path: string): boolean {
  return licenseFileRe.test(baseName(path).toLowerCase());
}

const decoder = new TextDecoder();

/** Candidate license texts by file. */
async function licenseTexts(filer: LicenseFiler): Promise<Map<string, string>> {
  const candidates = new Map<string, string>();
  for (let file of await filer.readDir()) {
    if (!isLicenseFileName(file)) continue;
    let data = await filer.readFile(file);
    const found = data !== undefined;
    if ((data?.length ?? 0) < SHORT_FILE) {
      const target = decoder.decode(data ?? new Uint8Array()).trim();
      const real = await filer.readFile(target);
      if (real !== undefined) {
        file = target;
        data = real;
      }
    }
    if (!found || data === undefined) continue;
    const text = decoder.decode(data);
    candidates.set(file, preprocessorFor(extension(file))?.(text) ?? text);
  }
  return candidates;
}

/** The licenses found in the tree's license files; empty when none matched. */
export async function detectLicenses(filer: LicenseFiler): Promise<Map<string, LicenseMatch>> {
  const candidates = await licenseTexts(filer);
  const matches = new Map<string, LicenseMatch>();
  if (candidates.size === 0) return matches;
  const db = await licenseDatabase();
  for (const [file, text] of candidates) {
    for (const [license, confidence] of await db.queryText(text)) {
      const match = matches.get(license) ?? { confidence: 0, file: "" };
      if (confidence > match.confidence) {
        match.confidence = confidence;
        match.file = file;
      }
      matches.set(license, match);
    }
  }
  return matches;
}

/** SPDX name and canonical URL of a license id; undefined parts when unknown. */
export async function licenseInfo(
  id: string,
): Promise<{ name?: string; urls?: string[] }> {
  const db = await licenseDatabase();
  return { name: db.name(id), urls: db.urls(id) };
}
