/**
 * Request options the CommitService RPCs share: `global_options` and
 * timestamps as rev-list flags.
 *
 * @module
 */
import type { GlobalOptions } from "../../proto/types.ts";

/** The environment for `global_options` (`literal_pathspecs` → `GIT_LITERAL_PATHSPECS=1`). */
export function globalOptionsEnv(
  options: GlobalOptions | null | undefined,
): Record<string, string> | undefined {
  return options?.literal_pathspecs ? { GIT_LITERAL_PATHSPECS: "1" } : undefined;
}

/** `--before=2023-11-14T22:13:20Z` for a `google.protobuf.Timestamp` (seconds, UTC, RFC 3339). */
export function timestampFlag(
  flag: string,
  timestamp: { seconds?: number | bigint | unknown },
): string {
  const seconds = Number(timestamp.seconds ?? 0);
  return `${flag}=${rfc3339(seconds)}`;
}

/** Go's `time.Unix(s, 0).UTC().Format(time.RFC3339)`. */
export function rfc3339(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** How a path reaches `git log` or `git rev-list`: after `--` or, when not UTF-8, on stdin. */
export interface PathspecArgs {
  /** Extra flags (`--stdin` when the path goes on stdin). */
  flags: string[];
  postSepArgs?: string[];
  stdin?: Uint8Array;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Passes `path` to log/rev-list: command-line arguments are UTF-8 strings,
 * so a path with other bytes is sent on stdin after a `--` line (`--stdin`
 * reads revisions, then paths), byte for byte.
 */
export function pathspecArgs(path: Uint8Array): PathspecArgs {
  try {
    return { flags: [], postSepArgs: [strictUtf8.decode(path)] };
  } catch {
    const stdin = new Uint8Array(path.byteLength + 4);
    stdin.set([0x2d, 0x2d, 0x0a]); // "--\n"
    stdin.set(path, 3);
    stdin[stdin.byteLength - 1] = 0x0a;
    return { flags: ["--stdin"], stdin };
  }
}
