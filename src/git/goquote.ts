/**
 * Go's `%q` quoting, for messages that must read exactly as Gitaly's
 * (which quotes ids, keys and stderr with `%q`).
 *
 * @module
 */

const NAMED: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

function escapeChar(c: string, quote: string): string {
  if (c === quote || c === "\\") return `\\${c}`;
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  // Go also escapes other non-printable code points; C1 controls are the common ones.
  if (code >= 0x80 && code < 0xa0) return `\\u${code.toString(16).padStart(4, "0")}`;
  return c;
}

/** `text` quoted as Go's `%q` quotes a string. */
export function goQuote(text: string): string {
  let out = '"';
  for (const c of text) out += escapeChar(c, '"');
  return out + '"';
}

/** `char` (one code point) quoted as Go's `%q` quotes a rune. */
export function goQuoteRune(char: string): string {
  return `'${escapeChar(char, "'")}'`;
}
