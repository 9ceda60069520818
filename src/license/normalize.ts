/**
 * License text normalisation after the SPDX matching guidelines, as go-license-detector
 * applies it: line endings, case, whitespace, punctuation, quotes, bullets, varietal
 * spellings and the copyright sign, in two strengths (moderate keeps punctuation for the
 * token diff; relaxed keeps only `[-a-z0-9 \n]` for the TF-IDF bag of words).
 *
 * Go's `(?m)^`/`(?m)$` are written as look-arounds on `\n` only (JavaScript's multiline
 * mode also breaks lines at `\r`, U+2028 and U+2029) and Go's `.`/`\s` as explicit classes.
 *
 * @module
 */

const SPACES = " \\t\\f\\r\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" +
  "\u202f\u205f\u3000\u200b";
const LINE_START = "(?<=^|\\n)";

const lineEndingsRe = /\r\n?/g;
const whitespaceRe = new RegExp(`[${SPACES}]+`, "gu");
const trailingWhitespaceRe = new RegExp(`[${SPACES}](?=\\n|$)`, "gu");
const licenseHeaderRe = /(licen[cs]e)\.?\n\n/g;
const leadingWhitespaceRe = new RegExp(`${LINE_START}(( \\n?)|\\n)`, "g");
const punctuationRe = /[-‒–—―⁓⸺⸻~˗‐‑⁃⁻₋−∼⎯⏤─➖𐆑֊﹘﹣－]+/gu;
const quotesRe = /["'“”‘’„‚«»‹›❛❜❝❞`]+/gu;
const bulletRe = new RegExp(
  `${LINE_START}(([-*✱﹡•●⚫⏺🞄∙⋅])|([(\\[{]?\\d+[.)\\]}] ?)|([(\\[{]?[a-z][.)\\]}] ?)|` +
    `([(\\[{]?i+[.)\\]} ] ?))`,
  "gu",
);
/** Equivalent spellings; at each position the first listed that matches wins. */
const WORDS: [string, string][] = [
  ["acknowledgment", "acknowledgement"],
  ["analogue", "analog"],
  ["analyse", "analyze"],
  ["artefact", "artifact"],
  ["authorisation", "authorization"],
  ["authorised", "authorized"],
  ["calibre", "caliber"],
  ["cancelled", "canceled"],
  ["capitalisations", "capitalizations"],
  ["catalogue", "catalog"],
  ["categorise", "categorize"],
  ["centre", "center"],
  ["emphasised", "emphasized"],
  ["favour", "favor"],
  ["favourite", "favorite"],
  ["fulfil", "fulfill"],
  ["fulfilment", "fulfillment"],
  ["initialise", "initialize"],
  ["judgment", "judgement"],
  ["labelling", "labeling"],
  ["labour", "labor"],
  ["licence", "license"],
  ["maximise", "maximize"],
  ["modelled", "modeled"],
  ["modelling", "modeling"],
  ["offence", "offense"],
  ["optimise", "optimize"],
  ["organisation", "organization"],
  ["organise", "organize"],
  ["practise", "practice"],
  ["programme", "program"],
  ["realise", "realize"],
  ["recognise", "recognize"],
  ["signalling", "signaling"],
  ["sub-license", "sublicense"],
  ["sub license", "sub-license"],
  ["utilisation", "utilization"],
  ["whilst", "while"],
  ["wilful", "wilfull"],
  ["non-commercial", "noncommercial"],
  ["per cent", "percent"],
  ["copyright owner", "copyright"],
];
const wordMap = new Map(WORDS);
const wordRe = new RegExp(WORDS.map(([from]) => from).join("|"), "g");
const copyrightRe = /copyright|\(c\)/g;
const trademarkRe = /trademark(s?)|\(tm\)/g;
const brokenLinkRe = /http s :\/\//g;
const urlCleanupRe = /[<(](http(s?):\/\/[^\t\n\f\r ]+)[)>]/g;
const copyrightLineRe = new RegExp(
  `${LINE_START}((©[^\\n]*)|(all rights reserved(\\.)?)|(li[cs]en[cs]e))\\n`,
  "gu",
);
const nonAlphaNumRe = /[^\- \na-z0-9]/gu;
const splitRe = /\n[\t\n\f\r ]*[^a-zA-Z0-9_,()]{3,}[\t\n\f\r ]*\n/u;
const letterOrDigitRe = /[\p{L}\p{Nd}]/u;
const nonAsciiRe = /[\u0080-\uffff]/;
const combiningMarkRe = /\p{Mn}/gu;
const PLACEHOLDER = "thisislikelyalicenseheaderplaceholder";

/** How hard `licenseText` normalises. */
export type Strictness = "enforced" | "moderate" | "relaxed";

/** Lower-cases code point by code point (no context rules, one code point each). */
function lowerCase(text: string): string {
  if (!nonAsciiRe.test(text)) return text.toLowerCase();
  let out = "";
  for (const ch of text) {
    const lower = ch.toLowerCase();
    out += [...lower].length === 1 ? lower : ch === "\u0130" ? "i" : lower;
  }
  return out;
}

/** Drops a repeated non-alphanumeric character (".." -> "."). */
function collapseRepeats(text: string): string {
  let out = "";
  let back = "";
  for (const ch of text) {
    if (ch === back && !letterOrDigitRe.test(ch)) continue;
    back = ch;
    out += ch;
  }
  return out;
}

/** Normalises a license text for comparison (the SPDX matching guidelines and more). */
export function licenseText(input: string, strictness: Strictness): string {
  let text = input.replace(lineEndingsRe, "\n");
  text = lowerCase(text);
  text = text.replace(whitespaceRe, " ");
  text = text.replace(trailingWhitespaceRe, "");
  text = text.replace(licenseHeaderRe, `$1\n${PLACEHOLDER}\n`);
  text = text.replace(leadingWhitespaceRe, "");
  text = text.replace(punctuationRe, "-");
  text = text.replace(quotesRe, '"');
  text = text.replace(bulletRe, "");
  text = text.replace(wordRe, (word) => wordMap.get(word)!);
  text = text.replace(copyrightRe, "©");
  text = text.replace(trademarkRe, "™");
  text = text.replace(brokenLinkRe, "https://");
  text = text.replace(urlCleanupRe, "$1");
  text = collapseRepeats(text);
  if (strictness !== "enforced") {
    text = text.replaceAll(".", "");
    text = text.replace(copyrightLineRe, "");
  }
  if (strictness === "relaxed") return relax(text);
  text = text.replace(leadingWhitespaceRe, "");
  return text.replaceAll(PLACEHOLDER, "");
}

/** The aggressive normalisation: accents stripped, only `[-a-z0-9 \n]` kept. */
export function relax(input: string): string {
  let text = input.normalize("NFD").replace(combiningMarkRe, "").normalize("NFC");
  text = text.replace(nonAlphaNumRe, "");
  text = text.replace(leadingWhitespaceRe, "");
  return text.replaceAll("  ", " ");
}

/** The whole text, then its parts between separator lines (e.g. `-----`), if any. */
export function splitLicenseParts(text: string): string[] {
  const parts = text.split(new RegExp(splitRe.source, "gu"));
  return parts.length > 1 ? [text, ...parts] : [text];
}

/** Tokens of a normalised text: split at newlines, then at single spaces (empties kept). */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    for (const token of line.split(" ")) out.push(token);
  }
  return out;
}

const encoder = new TextEncoder();

/** Length of `text` in UTF-8 bytes (Go's `len` of a string). */
export function utf8Length(text: string): number {
  if (!nonAsciiRe.test(text)) return text.length;
  return encoder.encode(text).length;
}
