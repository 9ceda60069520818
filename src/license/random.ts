/**
 * The deterministic random numbers go-license-detector draws its Weighted MinHash
 * parameters from: a 128-bit PCG generator (golang.org/x/exp/rand's `PCGSource`: LCG
 * step, then the xor of both halves rotated by the top six bits), its ziggurat normal
 * sampler and the Marsaglia–Tsang gamma sampler (gonum's `distuv.Gamma`). Same seed,
 * same stream, so our hashes equal the reference's bit for bit.
 *
 * @module
 */

/** The ziggurat tables of the normal sampler (from the dataset). */
export interface Ziggurat {
  kn: number[];
  wn: number[];
  fn: number[];
}

// 128-bit constants as eight 16-bit limbs, least significant first.
function limbs(value: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) out.push(Number((value >> BigInt(16 * i)) & 0xffffn));
  return out;
}
const MULTIPLIER = Float64Array.from(limbs(47026247687942121848144207491837523525n));
const INCREMENT = Float64Array.from(limbs(117397592171526113268558934119004209487n));
const TWO_POW_32 = 4294967296;
const RN = 3.442619855899;

/** PCG with 128 bits of state; `next()` leaves the 64-bit output in `hi`/`lo`. */
export class Pcg {
  /** The state as eight 16-bit limbs, least significant first. */
  readonly #state = new Float64Array(8);
  /** High 32 bits of the last output. */
  hi = 0;
  /** Low 32 bits of the last output. */
  lo = 0;

  constructor(seed: number) {
    const low = limbs(BigInt(seed));
    for (let i = 0; i < 4; i++) {
      this.#state[i] = low[i];
      this.#state[i + 4] = low[i];
    }
  }

  /** Advances the state (multiply, add) and computes the next output. */
  next(): void {
    // Column sums of 16-bit limb products stay below 2^36: exact in a double.
    const s = this.#state;
    const M = MULTIPLIER;
    const I = INCREMENT;
    let sum = 0;
    let carry = 0;
    sum = carry + s[0] * M[0];
    carry = Math.floor(sum / 65536);
    const p0 = sum - carry * 65536;
    sum = carry + s[0] * M[1] + s[1] * M[0];
    carry = Math.floor(sum / 65536);
    const p1 = sum - carry * 65536;
    sum = carry + s[0] * M[2] + s[1] * M[1] + s[2] * M[0];
    carry = Math.floor(sum / 65536);
    const p2 = sum - carry * 65536;
    sum = carry + s[0] * M[3] + s[1] * M[2] + s[2] * M[1] + s[3] * M[0];
    carry = Math.floor(sum / 65536);
    const p3 = sum - carry * 65536;
    sum = carry + s[0] * M[4] + s[1] * M[3] + s[2] * M[2] + s[3] * M[1] + s[4] * M[0];
    carry = Math.floor(sum / 65536);
    const p4 = sum - carry * 65536;
    sum = carry + s[0] * M[5] + s[1] * M[4] + s[2] * M[3] + s[3] * M[2] + s[4] * M[1] + s[5] * M[0];
    carry = Math.floor(sum / 65536);
    const p5 = sum - carry * 65536;
    sum = carry + s[0] * M[6] + s[1] * M[5] + s[2] * M[4] + s[3] * M[3] + s[4] * M[2] +
      s[5] * M[1] + s[6] * M[0];
    carry = Math.floor(sum / 65536);
    const p6 = sum - carry * 65536;
    sum = carry + s[0] * M[7] + s[1] * M[6] + s[2] * M[5] + s[3] * M[4] + s[4] * M[3] +
      s[5] * M[2] + s[6] * M[1] + s[7] * M[0];
    carry = Math.floor(sum / 65536);
    const p7 = sum - carry * 65536;
    // Add the increment; limb sums stay below 2^18, so bit operations are exact.
    carry = 0;
    sum = p0 + I[0] + carry;
    s[0] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p1 + I[1] + carry;
    s[1] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p2 + I[2] + carry;
    s[2] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p3 + I[3] + carry;
    s[3] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p4 + I[4] + carry;
    s[4] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p5 + I[5] + carry;
    s[5] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p6 + I[6] + carry;
    s[6] = sum & 0xffff;
    carry = sum >>> 16;
    sum = p7 + I[7] + carry;
    s[7] = sum & 0xffff;
    carry = sum >>> 16;
    let hi = ((s[7] << 16) | s[6]) ^ ((s[3] << 16) | s[2]);
    let lo = ((s[5] << 16) | s[4]) ^ ((s[1] << 16) | s[0]);
    let rot = s[7] >>> 10;
    if (rot >= 32) {
      const t = hi;
      hi = lo;
      lo = t;
      rot -= 32;
    }
    if (rot > 0) {
      const nh = (hi >>> rot) | (lo << (32 - rot));
      const nl = (lo >>> rot) | (hi << (32 - rot));
      hi = nh;
      lo = nl;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  /** Uniform in [0, 1) from the low 53 bits of one output. */
  float64(): number {
    this.next();
    return ((this.hi & 0x1fffff) * TWO_POW_32 + this.lo) / 9007199254740992;
  }

  /** The high 32 bits of one output, as a signed integer. */
  int32(): number {
    this.next();
    return this.hi | 0;
  }
}

/** Standard normal samples (the ziggurat method, 128 strips). */
export function normalSampler(rng: Pcg, z: Ziggurat): () => number {
  const wn = z.wn.map(Math.fround);
  const fn = z.fn.map(Math.fround);
  const kn = z.kn;
  return () => {
    for (;;) {
      const j = rng.int32();
      const i = j & 0x7f;
      let x = j * wn[i];
      if (Math.abs(j) < kn[i]) return x;
      if (i === 0) {
        for (;;) {
          x = -Math.log(rng.float64()) * (1.0 / RN);
          const y = -Math.log(rng.float64());
          if (y + y >= x * x) break;
        }
        return j > 0 ? RN + x : -RN - x;
      }
      const f = Math.fround(
        fn[i] + Math.fround(Math.fround(rng.float64()) * Math.fround(fn[i - 1] - fn[i])),
      );
      if (f < Math.fround(Math.exp(-0.5 * x * x))) return x;
    }
  };
}

/** Gamma(shape 2, rate 1) samples, Marsaglia and Tsang's method. */
export function gammaTwoSampler(rng: Pcg, normal: () => number): () => number {
  const d = 2 - 1.0 / 3;
  const c = 1 / (3 * Math.sqrt(d));
  return () => {
    for (;;) {
      const x = normal();
      let v = 1 + x * c;
      if (v <= 0.0) continue;
      v = v * v * v;
      const u = rng.float64();
      if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
}
