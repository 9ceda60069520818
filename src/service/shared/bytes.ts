/**
 * Git data travels as `bytes`; these helpers turn it into strings for
 * command lines. Unset bytes fields may decode as empty arrays, so both
 * shapes are accepted.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Decodes a `bytes` field as UTF-8; unset is "". */
export function text(value: Uint8Array | ArrayLike<number> | null | undefined): string {
  if (!value || value.length === 0) return "";
  return decoder.decode(value instanceof Uint8Array ? value : Uint8Array.from(value));
}
