/**
 * Helpers of the RefService handler tests.
 *
 * @module
 */
import type { ErrorDetail } from "../../../src/server/errors.ts";
import type { Repository } from "../../../src/proto/types.ts";
import { assert } from "../../helpers/assert.ts";
import { type CallResult, type HandlerHarness, runGit } from "../../helpers/handler.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A repository's references (`refname → oid`), HEAD left out. */
export async function refsOf(h: HandlerHarness, repo: Repository): Promise<Record<string, string>> {
  const out = await runGit(["for-each-ref", "--format=%(refname) %(objectname)"], h.repoPath(repo));
  return Object.fromEntries(out.split("\n").filter(Boolean).map((line) => line.split(" ")));
}

/** Error details with every `bytes` value as text, for comparing. */
export function detailsText(details: ErrorDetail[]): unknown {
  const walk = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return decoder.decode(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(details);
}

/**
 * `request` with the strings under `keys` (at any depth, also in arrays)
 * turned into bytes: the harness reads strings in `bytes` fields as base64.
 */
export function withBytes<T>(request: T, keys: string[]): T {
  const walk = (value: unknown, convert: boolean): unknown => {
    if (typeof value === "string") return convert ? encoder.encode(value) : value;
    if (Array.isArray(value)) return value.map((v) => walk(v, convert));
    if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, walk(v, keys.includes(k))]),
      );
    }
    return value;
  };
  return walk(request, false) as T;
}

/** A call's error as code name, message and details (bytes as text); fails on success. */
export function failed(result: CallResult): { code: string; message: string; details: unknown } {
  assert(!result.ok, `expected an error, got ${JSON.stringify(result)}`);
  return { code: result.codeName, message: result.message, details: detailsText(result.details) };
}

/** A factory of fresh repositories `r1.git`, `r2.git`, … built by `build`. */
export function freshRepos(
  h: HandlerHarness,
  build: (git: (...args: string[]) => Promise<string>) => Promise<void>,
): () => Promise<Repository> {
  let n = 0;
  return () => h.createRepo(`r${++n}.git`, build);
}
