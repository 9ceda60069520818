/**
 * The license database: SPDX texts normalised and hashed into an LSH index, their names
 * and URLs, and the text query of go-license-detector: split the text into parts, find the
 * nearest licenses of each part (and of each section starting at a known license title)
 * by Weighted MinHash, score them by token edit distance, and add the licenses whose
 * official URL appears in the text.
 *
 * @module
 */

import { tokenDistance } from "./diff.ts";
import { MinHashLsh, tfidf, WeightedMinHasher } from "./minhash.ts";
import { licenseText, relax, splitLicenseParts, tokens, utf8Length } from "./normalize.ts";
import type { Ziggurat } from "./random.ts";

const NUM_HASHES = 154;
const HASH_SEED = 7;
/** Similarity a match needs to count as strong. */
export const SIMILARITY_THRESHOLD = 0.75;

/** The dataset as generated: license files (`./<id>.txt`, text), URLs, names, ziggurat tables. */
export interface Dataset {
  licenses: [string, string][];
  urls: [string, string, string][];
  names: [string, string][];
  ziggurat: Ziggurat;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** Lets other tasks run (a macrotask turn). */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Similarities (0..1, float32) by license id. */
export type Similarities = Map<string, number>;

function keepMax(into: Similarities, from: Similarities): void {
  for (const [key, value] of from) {
    if ((into.get(key) ?? 0) < value) into.set(key, value);
  }
}

/** The loaded database; build it once with `licenseDatabase()`. */
export class LicenseDatabase {
  readonly #texts = new Map<string, string>();
  #minLength = 0;
  readonly #idByUrl = new Map<string, string>();
  readonly #urlsById = new Map<string, string[]>();
  readonly #nameById = new Map<string, string>();
  readonly #urlRe: RegExp;
  #firstLineRe = /$^/gu;
  readonly #tokenIndex = new Map<string, number>();
  readonly #docfreqs: number[] = [];
  #hasher!: WeightedMinHasher;
  readonly #lsh = new MinHashLsh(NUM_HASHES, SIMILARITY_THRESHOLD);

  private constructor(data: Dataset) {
    for (const [id, url, scheme] of data.urls) {
      this.#idByUrl.set(url, id);
      const list = this.#urlsById.get(id) ?? [];
      list.push(scheme + url);
      this.#urlsById.set(id, list);
    }
    this.#urlRe = new RegExp(data.urls.map(([, url]) => escapeRegExp(url)).join("|"), "g");
    for (const [id, name] of data.names) this.#nameById.set(id, name);
  }

  /**
   * Builds the database from the dataset: normalises and hashes every license text,
   * awaiting a macrotask now and then so that a server stays responsive meanwhile.
   */
  static async create(data: Dataset): Promise<LicenseDatabase> {
    const db = new LicenseDatabase(data);
    await db.#index(data);
    return db;
  }

  async #index(data: Dataset): Promise<void> {
    const firstLines: string[] = [];
    const tokenFreqs = new Map<string, Map<string, number>>();
    for (const [file, text] of data.licenses) {
      if (file.length <= 6 || file === "./App-s2p.txt") continue;
      const key = file.slice(2, -4);
      const normed = licenseText(text, "moderate");
      const length = utf8Length(normed);
      if (this.#minLength === 0 || this.#minLength > length) this.#minLength = length;
      this.#texts.set(key, normed);
      const newline = normed.indexOf("\n");
      if (newline >= 0) firstLines.push(escapeRegExp(normed.slice(0, newline)));
      const freqs = new Map<string, number>();
      tokenFreqs.set(key, freqs);
      for (const token of tokens(relax(normed))) freqs.set(token, (freqs.get(token) ?? 0) + 1);
      if (tokenFreqs.size % 20 === 0) await pause();
    }
    this.#firstLineRe = new RegExp(
      `(^|\\n)(([^\\n]*licen[cs]e\\n\\n)|(${firstLines.join("|")}))`,
      "gu",
    );
    const docfreqs = new Map<string, number>();
    for (const freqs of tokenFreqs.values()) {
      for (const token of freqs.keys()) docfreqs.set(token, (docfreqs.get(token) ?? 0) + 1);
    }
    const vocabulary = [...docfreqs.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
    vocabulary.forEach((token, i) => {
      this.#tokenIndex.set(token, i);
      this.#docfreqs.push(docfreqs.get(token)!);
    });
    this.#hasher = await WeightedMinHasher.create(
      vocabulary.length,
      NUM_HASHES,
      HASH_SEED,
      data.ziggurat,
      pause,
    );
    let hashed = 0;
    for (const [key, freqs] of tokenFreqs) {
      const indices: number[] = [];
      const values: number[] = [];
      for (const [token, freq] of freqs) {
        const index = this.#tokenIndex.get(token)!;
        indices.push(index);
        values.push(tfidf(freq, this.#docfreqs[index], this.#texts.size));
      }
      this.#lsh.add(key, this.#hasher.hash(values, indices));
      if (++hashed % 50 === 0) await pause();
    }
  }

  /** The SPDX name of a license id, if known. */
  name(id: string): string | undefined {
    return this.#nameById.get(id);
  }

  /** The URLs of a license id (the first is its canonical one), if known. */
  urls(id: string): string[] | undefined {
    return this.#urlsById.get(id);
  }

  /**
   * The licenses a text resembles, with their similarity; pauses between candidate
   * comparisons so that a server stays responsive meanwhile.
   */
  async queryText(text: string): Promise<Similarities> {
    const out: Similarities = new Map();
    for (const part of splitLicenseParts(text)) keepMax(out, await this.#queryPart(part));
    return out;
  }

  async #queryPart(text: string): Promise<Similarities> {
    const moderate = licenseText(text, "moderate");
    const candidates = await this.#queryNormalized(moderate);
    const titles = [...moderate.matchAll(this.#firstLineRe)].map((m) => [
      m.index,
      m.index + m[0].length,
    ]);
    let prevPos = 0;
    let prevMatch = "";
    for (const [i, [start, end]] of titles.entries()) {
      let begin = start;
      let match = moderate.slice(start, end);
      if (match.length === 0) continue;
      if (match[0] === "\n") match = match.slice(1);
      if (match === prevMatch) begin = prevPos;
      if (moderate[begin] === "\n") begin++;
      const stop = i < titles.length - 1 ? titles[i + 1][0] : moderate.length;
      const part = moderate.slice(begin, stop);
      prevMatch = match;
      prevPos = begin;
      if (utf8Length(part) < this.#minLength * SIMILARITY_THRESHOLD) continue;
      const found = await this.#queryNormalized(part);
      if (found.size > 0) keepMax(candidates, found);
    }
    this.#addUrlMatches(candidates, text);
    return candidates;
  }

  #addUrlMatches(candidates: Similarities, text: string): void {
    const ids = new Set<string>();
    for (const match of text.matchAll(this.#urlRe)) ids.add(this.#idByUrl.get(match[0]) ?? "");
    for (const id of ids) {
      const conf = candidates.get(id) ?? 0;
      if (conf < SIMILARITY_THRESHOLD) candidates.set(id, conf === 0 ? 1 : SIMILARITY_THRESHOLD);
    }
  }

  async #queryNormalized(moderate: string): Promise<Similarities> {
    const counts = new Map<number, number>();
    for (const token of tokens(relax(moderate))) {
      const index = this.#tokenIndex.get(token);
      if (index !== undefined) counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    const indices: number[] = [];
    const values: number[] = [];
    for (const [index, count] of counts) {
      indices.push(index);
      values.push(tfidf(count, this.#docfreqs[index], this.#texts.size));
    }
    const candidates: Similarities = new Map();
    const found = this.#lsh.query(this.#hasher.hash(values, indices));
    if (found.size === 0) return candidates;
    const mineTokens = tokens(moderate);
    for (const key of found) {
      const vocabulary = new Map<string, number>();
      let yours = "";
      for (const token of tokens(this.#texts.get(key)!)) {
        let index = vocabulary.get(token);
        if (index === undefined) {
          index = vocabulary.size;
          vocabulary.set(token, index);
        }
        yours += String.fromCharCode(index);
      }
      const oov = String.fromCharCode(vocabulary.size);
      let mine = "";
      for (const token of mineTokens) {
        const index = vocabulary.get(token);
        if (index !== undefined) mine += String.fromCharCode(index);
        else if (mine.length === 0 || mine[mine.length - 1] !== oov) mine += oov;
      }
      await pause();
      const distance = tokenDistance(mine, yours);
      candidates.set(key, Math.fround(1 - Math.fround(distance / mine.length)));
    }
    const weak = [...candidates].filter(([, value]) => value < SIMILARITY_THRESHOLD);
    if (weak.length < candidates.size) { for (const [key] of weak) candidates.delete(key); }
    return candidates;
  }
}

let database: Promise<LicenseDatabase> | undefined;

/** Decodes the generated dataset. */
export async function loadDataset(): Promise<Dataset> {
  // 1.8 MB of source: loaded with the first FindLicense, not at server start.
  const { DATASET_GZIP_BASE64 } = await import("./dataset.ts");
  const packed = Uint8Array.from(atob(DATASET_GZIP_BASE64), (c) => c.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

/** The process-wide database, built on first use (it takes a few seconds). */
export function licenseDatabase(): Promise<LicenseDatabase> {
  database ??= loadDataset().then((data) => LicenseDatabase.create(data));
  database.catch(() => database = undefined);
  return database;
}
