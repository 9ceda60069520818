/**
 * Git LFS pointer detection, with Gitaly's rules: a pointer is a small
 * blob that starts with the spec's version prefix and has an
 * `oid sha256:<64 hex digits>` line and a `size <digits>` line (each a
 * whole line; anything else may come around them).
 *
 * @module
 */

/**
 * Largest blob that can be a pointer, in bytes. Listings of the whole object
 * database skip larger blobs; graph walks ask `rev-list` for blobs smaller
 * than this (`--filter=blob:limit=200`), as Gitaly does.
 */
export const LFS_POINTER_MAX_SIZE = 200;

const VERSION_PREFIX = new TextEncoder().encode("version https://git-lfs.github.com/spec");
const OID_LINE = /^oid sha256:[0-9a-f]{64}$/;
const SIZE_LINE = /^size [0-9]+$/;
const latin1 = new TextDecoder("latin1");

/** Whether `data` (a whole blob) is a Git LFS pointer. */
export function isLfsPointer(data: Uint8Array): boolean {
  if (data.byteLength < VERSION_PREFIX.byteLength) return false;
  for (let i = 0; i < VERSION_PREFIX.byteLength; i++) {
    if (data[i] !== VERSION_PREFIX[i]) return false;
  }
  // Lines end at LF only; a line with CR before its LF does not match.
  const lines = latin1.decode(data).split("\n");
  return lines.some((line) => OID_LINE.test(line)) && lines.some((line) => SIZE_LINE.test(line));
}
