/**
 * Git bundles for the bundle RPCs: `git bundle create` streamed to the
 * client, and bundles received from a client spooled to a file in the
 * storage's temp dir (git reads bundles only from files), removed again
 * whatever happens.
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { join } from "node:path";
import type { GitStdin } from "../../git/command.ts";
import { Code, GrpcError, internal } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { goQuote } from "../shared/git_options.ts";
import { describeExit, runStreamed } from "../shared/git_stream.ts";
import { makeStorageTempDir } from "../shared/storage.ts";

/** How {@link sendBundle} picks what goes into the bundle. */
export interface BundleSelection {
  /** Revisions as `git rev-list --stdin` lines; without it, `--all`. */
  stdin?: GitStdin;
  /** The code of the "nothing to bundle" error (Gitaly: Internal for CreateBundle). */
  emptyCode: Code;
  signal: AbortSignal;
}

/**
 * Streams `git bundle create -` of the repository at `repoPath` to `send`
 * (backpressure: git waits while the client is slow). A bundle that would
 * be empty, and any other failure of git, end in Gitaly's errors.
 */
export async function sendBundle(
  deps: ServiceDeps,
  repoPath: string,
  selection: BundleSelection,
  send: (data: Uint8Array) => Promise<void>,
): Promise<void> {
  const flags = selection.stdin ? ["--ignore-missing", "--stdin"] : ["--all"];
  const exit = await runStreamed(deps.git, {
    gitDir: repoPath,
    args: ["bundle", "create", "-", ...flags],
    stdin: selection.stdin ?? "null",
    signal: selection.signal,
  }, { stdout: send });
  if (exit.code === 0) return;
  if (exit.code === 128 && exit.stderr.startsWith("fatal: Refusing to create empty bundle.")) {
    throw new GrpcError(selection.emptyCode, "create bundle: refusing to create empty bundle");
  }
  throw internal(`create bundle: ${describeExit(exit)}: stderr: ${goQuote(exit.stderr)}`);
}

/** A bundle spooled to disk; {@link SpooledBundle.remove} deletes it. */
export interface SpooledBundle {
  path: string;
  remove(): Promise<void>;
}

/**
 * Writes `data` (the client's bundle, as it arrives) to a fresh file in the
 * storage's temp dir. A failing stream (a client gone mid-upload) removes
 * the file and rethrows.
 */
export async function spoolBundle(
  storagePath: string,
  data: ReadableStream<Uint8Array>,
): Promise<SpooledBundle> {
  const dir = await makeStorageTempDir(storagePath, "repo");
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  const path = join(dir, "repo.bundle");
  try {
    const file = await Deno.open(path, { createNew: true, write: true });
    await data.pipeTo(file.writable);
  } catch (err) {
    await data.cancel().catch(() => {});
    await remove();
    throw err;
  }
  return { path, remove };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NEWLINE = 0x0a;
const DASH = 0x2d;
const CARET = 0x5e;

/** The namespaces git's pseudo revisions stand for (`--all` also adds HEAD). */
const PSEUDO_REFS: Record<string, string[]> = {
  "--all": [],
  "--branches": ["refs/heads/"],
  "--tags": ["refs/tags/"],
  "--remotes": ["refs/remotes/"],
};

/**
 * Turns revision patterns, as a client sends them for `git rev-list
 * --stdin`, into lines git 2.39 accepts: git before 2.42 takes no options
 * there, so `--not` is applied by hand (negating what follows with `^`) and
 * `--all`, `--branches`, `--tags` and `--remotes` are expanded into the refs
 * they name, in git's order and spelling. Lines after `--` (paths) pass unchanged. Each
 * call handles one request's patterns, which end in a newline as Gitaly
 * writes them (an empty line, as from a request without patterns, makes
 * git stop reading).
 */
export class StdinPatterns {
  #negated = false;
  #paths = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly repoPath: string,
    private readonly signal: AbortSignal,
  ) {}

  /** The stdin bytes for one request's `patterns`. */
  async lines(patterns: readonly Uint8Array[]): Promise<Uint8Array> {
    // Gitaly writes a lone newline for a request without patterns.
    if (patterns.length === 0) return Uint8Array.of(NEWLINE);
    const lines: Uint8Array[] = [];
    for (const pattern of patterns) lines.push(...await this.#translate(pattern));
    const out: Uint8Array[] = [];
    for (const line of lines) out.push(line, Uint8Array.of(NEWLINE));
    return concatBytes(out);
  }

  async #translate(pattern: Uint8Array): Promise<Uint8Array[]> {
    if (this.#paths || pattern[0] !== DASH) {
      if (this.#paths || !this.#negated || pattern.length === 0) return [pattern];
      return [
        pattern[0] === CARET ? pattern.subarray(1) : concatBytes([Uint8Array.of(CARET), pattern]),
      ];
    }
    const option = decoder.decode(pattern);
    if (option === "--") {
      this.#paths = true;
      return [pattern];
    }
    if (option === "--not") {
      this.#negated = !this.#negated;
      return [];
    }
    const prefixes = PSEUDO_REFS[option];
    if (!prefixes) {
      throw new GrpcError(Code.INVALID_ARGUMENT, `invalid option '${option}' in --stdin mode`);
    }
    const { stdout } = await this.deps.git.runOk({
      gitDir: this.repoPath,
      command: { name: "for-each-ref", flags: ["--format=%(refname)"], args: prefixes },
      signal: this.signal,
    });
    // git names the refs of `--branches`, `--tags` and `--remotes` without their prefix
    // (so a bundle lists `refs/remotes/origin/HEAD` as the ref it points to), those of
    // `--all` in full.
    const strip = prefixes.length === 1 ? encoder.encode(prefixes[0]).byteLength : 0;
    const refs = splitLines(stdout).map((ref) => ref.subarray(strip));
    if (option === "--all") refs.push(encoder.encode("HEAD"));
    return this.#negated ? refs.map((ref) => concatBytes([Uint8Array.of(CARET), ref])) : refs;
  }
}

/** The non-empty lines of `bytes` (refnames need not be UTF-8). */
function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === NEWLINE) {
      if (i > start) lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return lines;
}
