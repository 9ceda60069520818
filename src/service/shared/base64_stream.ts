/**
 * Incremental standard base64 decoding (with padding) as Go's
 * `base64.NewDecoder(base64.StdEncoding, r)` reads it: `\r` and `\n` are
 * skipped, anything else outside the alphabet fails with Go's message
 * `illegal base64 data at input byte N` (N counted without the skipped
 * newlines).
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUES = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Malformed base64 input: Go's `base64.CorruptInputError` for a bad byte,
 * or `unexpected EOF` when the input ends inside a quantum.
 */
export class Base64InputError extends Error {
  /** Builds the error for the offending input offset; undefined: the input ended early. */
  constructor(readonly offset?: number) {
    super(offset === undefined ? "unexpected EOF" : `illegal base64 data at input byte ${offset}`);
    this.name = "Base64InputError";
  }
}

/** Decodes base64 chunk by chunk; see the module documentation. */
export class Base64Decoder {
  /** Input bytes (newlines removed) of the quantum not yet complete. */
  #quantum: number[] = [];
  /** Offset of the quantum's first byte in the filtered input. */
  #offset = 0;
  /** Whether a padded quantum ended the data. */
  #padded = false;

  /** Decodes what `chunk` completes. */
  push(chunk: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === CR || byte === LF) continue;
      if (this.#padded) throw new Base64InputError(this.#offset);
      this.#quantum.push(byte);
      if (this.#quantum.length === 4) this.#decodeQuantum(out);
    }
    return Uint8Array.from(out);
  }

  /** Checks the input ended on a quantum (Go reads whole quanta: a short rest is an early EOF). */
  end(): void {
    if (this.#quantum.length > 0) throw new Base64InputError();
  }

  #decodeQuantum(out: number[]): void {
    const q = this.#quantum;
    const at = this.#offset;
    let bits = 0;
    let count = 0;
    for (let i = 0; i < 4; i++) {
      if (q[i] === PAD) {
        if (i < 2) throw new Base64InputError(at + i);
        if (i === 2 && q[3] !== PAD) throw new Base64InputError(at + 3);
        break;
      }
      const value = VALUES[q[i]];
      if (value < 0) throw new Base64InputError(at + i);
      bits = (bits << 6) | value;
      count++;
    }
    if (count === 4) {
      out.push((bits >> 16) & 0xff, (bits >> 8) & 0xff, bits & 0xff);
    } else if (count === 3) {
      out.push((bits >> 10) & 0xff, (bits >> 2) & 0xff);
      this.#padded = true;
    } else {
      out.push((bits >> 4) & 0xff);
      this.#padded = true;
    }
    this.#quantum = [];
    this.#offset += 4;
  }
}
