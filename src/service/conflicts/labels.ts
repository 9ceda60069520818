/**
 * Conflict marker labels. git-merge-tree(1) labels the markers of a
 * conflicted file with the commits it merged (`<<<<<<< <our commit id>`);
 * GitLab knows the older form that names the file instead, so Gitaly
 * replaces every occurrence of our commit id by our path and then every
 * occurrence of their commit id by their path. Done here on a stream, so a
 * large file never sits in memory whole.
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { indexOf } from "../../git/tag_parser.ts";

const encoder = new TextEncoder();

/**
 * Yields `source` with every (non-overlapping, leftmost first) occurrence
 * of `needle` replaced by `replacement`, as Go's `bytes.ReplaceAll`.
 */
export async function* replaceAllStream(
  source: AsyncIterable<Uint8Array>,
  needle: Uint8Array,
  replacement: Uint8Array,
): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    const data = carry.byteLength ? concatBytes([carry, chunk]) : chunk;
    const { out, rest } = replaceIn(data, needle, replacement, false);
    carry = rest;
    if (out.byteLength) yield out;
  }
  const { out } = replaceIn(carry, needle, replacement, true);
  if (out.byteLength) yield out;
}

/** Replaces in `data`; unless `final`, keeps back a tail that may start a match. */
function replaceIn(
  data: Uint8Array,
  needle: Uint8Array,
  replacement: Uint8Array,
  final: boolean,
): { out: Uint8Array; rest: Uint8Array } {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (let found = indexOf(data, needle, at); found >= 0; found = indexOf(data, needle, at)) {
    parts.push(data.subarray(at, found), replacement);
    at = found + needle.byteLength;
  }
  const keep = final ? data.byteLength : Math.max(at, data.byteLength - (needle.byteLength - 1));
  parts.push(data.subarray(at, keep));
  // Copy the carried tail: the source may reuse its chunk's buffer.
  return { out: concatBytes(parts.filter((p) => p.byteLength > 0)), rest: data.slice(keep) };
}

/**
 * A conflicted file's content with the markers labelled by path: our
 * commit id → `ourPath`, then their commit id → `theirPath`.
 */
export function labelWithPaths(
  source: AsyncIterable<Uint8Array>,
  sides: { ours: string; ourPath: string; theirs: string; theirPath: string },
): AsyncGenerator<Uint8Array> {
  const oursReplaced = replaceAllStream(
    source,
    encoder.encode(sides.ours),
    encoder.encode(sides.ourPath),
  );
  return replaceAllStream(
    oursReplaced,
    encoder.encode(sides.theirs),
    encoder.encode(sides.theirPath),
  );
}
