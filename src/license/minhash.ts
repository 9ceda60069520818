/**
 * Weighted MinHash (Ioffe's consistent weighted sampling, as go-license-detector computes
 * it in float32 with an approximate logarithm) and the banded LSH index that finds the
 * licenses whose hashes agree with a text's in at least one band.
 *
 * @module
 */

import { gammaTwoSampler, normalSampler, Pcg, type Ziggurat } from "./random.ts";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const LOG2_C0 = Math.fround(1.1920928955078125e-7);
const LOG2_C1 = Math.fround(124.22551499);
const LOG2_C2 = Math.fround(1.498030302);
const LOG2_C3 = Math.fround(1.72587999);
const LOG2_C4 = Math.fround(0.3520887068);
const LN2 = Math.fround(0.69314718);
const fr = Math.fround;

/** The fast approximate natural logarithm of a float32 (fastapprox's `fastlog`). */
export function fastLog(x: number): number {
  f32[0] = x;
  const vx = u32[0];
  u32[0] = (vx & 0x007fffff) | 0x3f000000;
  const mx = f32[0];
  const y = fr(fr(vx) * LOG2_C0);
  const log2 = fr(fr(fr(y - LOG2_C1) - fr(LOG2_C2 * mx)) - fr(LOG2_C3 / fr(LOG2_C4 + mx)));
  return fr(LN2 * log2);
}

/** TF-IDF weight of a token: log(1 + tf) * log(N / df), clipped at 0. */
export function tfidf(freq: number, docfreq: number, ndocs: number): number {
  const weight = fr(fastLog(fr(1 + freq)) * fastLog(fr(fr(ndocs) / fr(docfreq))));
  return weight < 0 ? 0 : weight;
}

const MAX_UINT16 = 65535;
const MAX_FLOAT32 = 3.4028234663852886e38;
/** Parameters drawn between two pauses. */
const PAUSE_EVERY = 1 << 16;

/** Hashes weighted bags of token indices into `sampleSize` (index, t) pairs. */
export class WeightedMinHasher {
  readonly #dim: number;
  readonly #sampleSize: number;
  readonly #rs: Float32Array;
  readonly #lnCs: Float32Array;
  readonly #betas: Float32Array;

  private constructor(
    dim: number,
    sampleSize: number,
    rs: Float32Array,
    lnCs: Float32Array,
    betas: Float32Array,
  ) {
    this.#dim = dim;
    this.#sampleSize = sampleSize;
    this.#rs = rs;
    this.#lnCs = lnCs;
    this.#betas = betas;
  }

  /**
   * Draws the parameters for `dim` features from the seeded generator, awaiting `pause`
   * now and then so that a server stays responsive meanwhile.
   */
  static async create(
    dim: number,
    sampleSize: number,
    seed: number,
    ziggurat: Ziggurat,
    pause: () => Promise<void>,
  ): Promise<WeightedMinHasher> {
    const rng = new Pcg(seed);
    const gamma = gammaTwoSampler(rng, normalSampler(rng, ziggurat));
    const total = dim * sampleSize;
    const fill = async (array: Float32Array, draw: () => number) => {
      for (let start = 0; start < total; start += PAUSE_EVERY) {
        const end = Math.min(total, start + PAUSE_EVERY);
        for (let i = start; i < end; i++) array[i] = draw();
        await pause();
      }
    };
    const rs = new Float32Array(total);
    await fill(rs, gamma);
    const lnCs = new Float32Array(total);
    await fill(lnCs, () => fastLog(fr(gamma())));
    // Stored as uint16 scaled to [0, 65535], used as float32(b) / 65535.
    const betas = new Float32Array(total);
    await fill(betas, () => fr(Math.trunc(rng.float64() * MAX_UINT16) / MAX_UINT16));
    return new WeightedMinHasher(dim, sampleSize, rs, lnCs, betas);
  }

  /** The hash of the bag (`values[i]` is the weight of feature `indices[i]`), one key a sample. */
  hash(values: number[], indices: number[]): string[] {
    const out: string[] = [];
    const logs = values.map(fastLog);
    for (let s = 0; s < this.#sampleSize; s++) {
      const row = s * this.#dim;
      let minLnA = MAX_FLOAT32;
      let k = 0;
      let minT = 0;
      for (let vi = 0; vi < indices.length; vi++) {
        const at = row + indices[vi];
        const r = this.#rs[at];
        const beta = this.#betas[at];
        const t = fr(Math.floor(fr(fr(logs[vi] / r) + beta)));
        const lnY = fr(fr(t - beta) * r);
        const lnA = fr(fr(this.#lnCs[at] - lnY) - r);
        if (lnA < minLnA) {
          minLnA = lnA;
          k = indices[vi];
          minT = t;
        }
      }
      // The 64-bit hash value is k | uint64(t) << 32: t keeps its low 32 bits.
      out.push(`${k}:${minT | 0}`);
    }
    return out;
  }
}

const INTEGRATION_PRECISION = 0.01;

function integral(f: (x: number) => number, a: number, b: number): number {
  let area = 0;
  for (let x = a; x < b; x += INTEGRATION_PRECISION) {
    area += f(x + 0.5 * INTEGRATION_PRECISION) * INTEGRATION_PRECISION;
  }
  return area;
}

/** The band width and count that minimise false positives plus false negatives. */
export function optimalBands(numHash: number, threshold: number): { k: number; l: number } {
  let minError = Number.MAX_VALUE;
  let best = { k: 0, l: 0 };
  for (let l = 1; l <= numHash; l++) {
    for (let k = 1; k <= numHash; k++) {
      if (l * k > numHash) continue;
      const fp = integral((j) => 1.0 - Math.pow(1.0 - Math.pow(j, k), l), 0, threshold);
      const fn = integral((j) => 1.0 - (1.0 - Math.pow(1.0 - Math.pow(j, k), l)), threshold, 1.0);
      if (minError > fn + fp) {
        minError = fn + fp;
        best = { k, l };
      }
    }
  }
  return best;
}

/** Banded LSH over MinHash signatures: a key matches when one whole band agrees. */
export class MinHashLsh {
  readonly #k: number;
  readonly #tables: Map<string, string[]>[];

  constructor(numHash: number, threshold: number) {
    const { k, l } = optimalBands(numHash, threshold);
    this.#k = k;
    this.#tables = Array.from({ length: l }, () => new Map());
  }

  #bandKeys(signature: string[]): string[] {
    return this.#tables.map((_, i) => signature.slice(i * this.#k, (i + 1) * this.#k).join(","));
  }

  /** Indexes `key` under its signature. */
  add(key: string, signature: string[]): void {
    const bands = this.#bandKeys(signature);
    bands.forEach((band, i) => {
      const table = this.#tables[i];
      const list = table.get(band);
      if (list) list.push(key);
      else table.set(band, [key]);
    });
  }

  /** The keys sharing at least one band with `signature`. */
  query(signature: string[]): Set<string> {
    const found = new Set<string>();
    this.#bandKeys(signature).forEach((band, i) => {
      for (const key of this.#tables[i].get(band) ?? []) found.add(key);
    });
    return found;
  }
}
