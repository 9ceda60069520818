/**
 * Test repositories and running the client-side `git` in tests: a clean
 * environment, small repositories with a few commits, large generated
 * repositories (random blobs through `git fast-import`, cached on disk),
 * ref listings, and a check for processes left behind.
 *
 * @module
 */
import { join } from "node:path";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Identity and dates for test commits, so object ids are reproducible. */
export const GIT_IDENTITY: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0000",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_COMMITTER_DATE: "1700000000 +0000",
};

/**
 * The environment for client-side git in tests: no system or user config,
 * no prompts, a fixed identity, plus `extra`.
 */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    LANG: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    ...GIT_IDENTITY,
    ...extra,
  };
}

/** What a git invocation produced. */
export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link git}. */
export interface GitOptions {
  /** The git executable (default: `git` from PATH). */
  bin?: string;
  cwd?: string;
  env?: Record<string, string>;
  stdin?: Uint8Array | string;
  /** Kills git when aborted (e.g. `AbortSignal.timeout(ms)`). */
  signal?: AbortSignal;
}

/** Runs `git args…` with {@link gitEnv}; never throws on a non-zero exit. */
export async function git(args: string[], options: GitOptions = {}): Promise<GitOutput> {
  const child = new Deno.Command(options.bin ?? "git", {
    args,
    cwd: options.cwd,
    env: gitEnv(options.env),
    clearEnv: true,
    signal: options.signal,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof options.stdin === "string" ? encoder.encode(options.stdin) : options.stdin;
    await writer.write(bytes).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs git and returns its stdout without the trailing newline; throws on failure. */
export async function gitOk(args: string[], options: GitOptions = {}): Promise<string> {
  const out = await git(args, options);
  if (out.code !== 0) {
    throw new Error(`git ${args.join(" ")} failed (${out.code}):\n${out.stderr}${out.stdout}`);
  }
  return out.stdout.replace(/\n$/, "");
}

/** Creates an empty bare repository at `path` with `main` as HEAD. */
export async function initBareRepo(path: string): Promise<void> {
  await gitOk(["init", "--bare", "--quiet", "--initial-branch=main", path]);
}

/** Options of {@link createRepo}. */
export interface CreateRepoOptions {
  /** Commits on `main` (default 3). */
  commits?: number;
  /** Extra branches, each one commit ahead of main. */
  branches?: string[];
  /** Tags on main's tip. */
  tags?: string[];
}

/**
 * Creates a bare repository at `path` with a linear history on `main`
 * (a file changing in every commit), optional branches and lightweight
 * tags; built through fast-import, so it is quick and reproducible.
 */
export async function createRepo(path: string, options: CreateRepoOptions = {}): Promise<void> {
  await initBareRepo(path);
  const stream = new FastImportStream();
  const commits = options.commits ?? 3;
  let tip: number | undefined;
  for (let i = 1; i <= commits; i++) {
    const blob = stream.blob(encoder.encode(`line ${i}\n`.repeat(i * 10)));
    tip = stream.commit("refs/heads/main", `commit ${i}`, tip, [[`file.txt`, blob], [
      `dir/f${i}.txt`,
      stream.blob(encoder.encode(`file ${i}\n`)),
    ]]);
  }
  for (const branch of options.branches ?? []) {
    const blob = stream.blob(encoder.encode(`branch ${branch}\n`));
    stream.commit(`refs/heads/${branch}`, `on ${branch}`, tip, [[`${branch}.txt`, blob]]);
  }
  for (const tag of options.tags ?? []) stream.reset(`refs/tags/${tag}`, tip!);
  await stream.importInto(path);
}

/** Options of {@link generateLargeRepo}. */
export interface LargeRepoOptions {
  /** Total size of the random blobs in MiB. */
  sizeMiB: number;
  /** Size of one blob in KiB (default 512). */
  blobKiB?: number;
  /** Blobs added per commit (default 8). */
  blobsPerCommit?: number;
  /** Seed of the pseudo-random content. */
  seed?: number;
}

/**
 * Creates a bare repository whose history adds incompressible random blobs
 * (so the pack is about `sizeMiB`), with a `main` branch, a `side` branch
 * and a tag. Takes about a second per 50 MiB.
 */
export async function generateLargeRepo(path: string, options: LargeRepoOptions): Promise<void> {
  await initBareRepo(path);
  const blobSize = (options.blobKiB ?? 512) * 1024;
  const perCommit = options.blobsPerCommit ?? 8;
  const blobs = Math.ceil((options.sizeMiB * 1024 * 1024) / blobSize);
  const random = new PseudoRandom(options.seed ?? 42);
  const stream = new FastImportStream();
  const writer = stream.pipeTo(path);
  let tip: number | undefined;
  let mid: number | undefined;
  for (let done = 0, n = 0; done < blobs; n++) {
    const files: [string, number][] = [];
    for (let i = 0; i < perCommit && done < blobs; i++, done++) {
      files.push([`data/${n}/blob-${i}.bin`, stream.blob(random.bytes(blobSize))]);
    }
    files.push(["README", stream.blob(encoder.encode(`revision ${n}\n`))]);
    tip = stream.commit("refs/heads/main", `add batch ${n}`, tip, files);
    if (done >= blobs / 2 && mid === undefined) mid = tip;
    await stream.flushTo(writer);
  }
  stream.commit("refs/heads/side", "side branch", mid, [[
    "SIDE",
    stream.blob(encoder.encode("s\n")),
  ]]);
  stream.reset("refs/tags/v1.0", tip!);
  await stream.flushTo(writer);
  await writer.finish();
}

const memo = new Map<string, Promise<string>>();

/**
 * A generated repository cached on disk under `$TMPDIR/deno-gitaly-cache/`,
 * keyed by `key` (bump it when the generator changes). Built once, then
 * reused by every test file and run; copy it with {@link copyRepo} before
 * changing it.
 */
export function cachedLargeRepo(key: string, options: LargeRepoOptions): Promise<string> {
  let pending = memo.get(key);
  if (!pending) {
    pending = buildCached(key, options);
    memo.set(key, pending);
  }
  return pending;
}

async function buildCached(key: string, options: LargeRepoOptions): Promise<string> {
  const root = join(Deno.env.get("TMPDIR") ?? "/tmp", "deno-gitaly-cache");
  await Deno.mkdir(root, { recursive: true });
  const path = join(root, `${key}.git`);
  if (await isComplete(path)) return path;
  // Build beside the final place and rename, so a crashed build is never reused.
  const staging = await Deno.makeTempDir({ dir: root, prefix: `${key}.building-` });
  try {
    await generateLargeRepo(join(staging, "repo.git"), options);
    await Deno.writeTextFile(join(staging, "repo.git", "COMPLETE"), "ok\n");
    await Deno.rename(join(staging, "repo.git"), path).catch(async (error) => {
      if (!(await isComplete(path))) throw error; // another process won the race
    });
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return path;
}

async function isComplete(path: string): Promise<boolean> {
  return await Deno.stat(join(path, "COMPLETE")).then(() => true, () => false);
}

/** Copies a bare repository, hard-linking the (immutable) object files. */
export async function copyRepo(from: string, to: string): Promise<void> {
  await Deno.mkdir(join(to, ".."), { recursive: true });
  const out = await new Deno.Command("cp", { args: ["-rl", from, to], stderr: "piped" }).output();
  if (!out.success) throw new Error(`cp failed: ${decoder.decode(out.stderr)}`);
  // Hard-linked refs and config would be shared with the source: give the copy its own.
  for (const name of ["packed-refs", "config", "HEAD"]) {
    const file = join(to, name);
    const data = await Deno.readFile(file).catch(() => undefined);
    if (data === undefined) continue;
    await Deno.remove(file);
    await Deno.writeFile(file, data);
  }
  await unlinkTree(join(to, "refs"));
}

/** Replaces every file below `dir` by a private copy (breaking hard links). */
async function unlinkTree(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await unlinkTree(path);
    else if (entry.isFile) {
      const data = await Deno.readFile(path);
      await Deno.remove(path);
      await Deno.writeFile(path, data);
    }
  }
}

/** `refname → object id` of every ref (and HEAD's target under `HEAD`). */
export async function listRefs(repo: string): Promise<Record<string, string>> {
  const out = await gitOk(["--git-dir", repo, "for-each-ref", "--format=%(objectname) %(refname)"]);
  const refs: Record<string, string> = {};
  for (const line of out.split("\n").filter(Boolean)) {
    const [oid, name] = line.split(" ");
    refs[name] = oid;
  }
  return refs;
}

/**
 * Ids of live processes (other than `exclude`) whose command line or
 * working directory mentions `path`: git left behind after a test.
 */
export async function processesReferencing(
  path: string,
  exclude: number[] = [],
): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid || exclude.includes(pid)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    const cwd = await Deno.readLink(`/proc/${pid}/cwd`).catch(() => "");
    if (cmdline.includes(path) || cwd.startsWith(path)) found.push(pid);
  }
  return found;
}

/** Builds a `git fast-import` stream with marks. */
export class FastImportStream {
  #parts: Uint8Array[] = [];
  #mark = 0;

  /** Adds a blob; returns its mark. */
  blob(content: Uint8Array): number {
    const mark = ++this.#mark;
    this.#text(`blob\nmark :${mark}\ndata ${content.byteLength}\n`);
    this.#parts.push(content);
    this.#text("\n");
    return mark;
  }

  /** Adds a commit on `ref` with `files` (`[path, blob mark]`); returns its mark. */
  commit(ref: string, message: string, parent: number | undefined, files: [string, number][]) {
    const mark = ++this.#mark;
    const msg = encoder.encode(message + "\n");
    this.#text(
      `commit ${ref}\nmark :${mark}\n` +
        `author ${GIT_IDENTITY.GIT_AUTHOR_NAME} <${GIT_IDENTITY.GIT_AUTHOR_EMAIL}> 1700000000 +0000\n` +
        `committer ${GIT_IDENTITY.GIT_COMMITTER_NAME} <${GIT_IDENTITY.GIT_COMMITTER_EMAIL}> ` +
        `1700000000 +0000\ndata ${msg.byteLength}\n`,
    );
    this.#parts.push(msg);
    if (parent !== undefined) this.#text(`from :${parent}\n`);
    for (const [path, blob] of files) this.#text(`M 100644 :${blob} ${path}\n`);
    this.#text("\n");
    return mark;
  }

  /** Points `ref` at the commit with `mark`. */
  reset(ref: string, mark: number): void {
    this.#text(`reset ${ref}\nfrom :${mark}\n\n`);
  }

  /** Runs fast-import on `repo` with everything added so far. */
  async importInto(repo: string): Promise<void> {
    const writer = this.pipeTo(repo);
    await this.flushTo(writer);
    await writer.finish();
  }

  /** Starts `git fast-import` on `repo`; feed it with {@link flushTo}. */
  pipeTo(repo: string): FastImportWriter {
    return new FastImportWriter(repo);
  }

  /** Writes what was added since the last flush and forgets it. */
  async flushTo(writer: FastImportWriter): Promise<void> {
    const parts = this.#parts;
    this.#parts = [];
    for (const part of parts) await writer.write(part);
  }

  #text(text: string): void {
    this.#parts.push(encoder.encode(text));
  }
}

/** A running `git fast-import`. */
export class FastImportWriter {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(repo: string) {
    this.#child = new Deno.Command("git", {
      args: [
        "--git-dir",
        repo,
        "-c",
        "pack.compression=0",
        "fast-import",
        "--quiet",
        "--done",
        "--depth=0",
      ],
      env: gitEnv(),
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
  }

  /** Writes bytes of the stream. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.#writer.write(bytes);
  }

  /** Ends the stream and waits for fast-import. */
  async finish(): Promise<void> {
    await this.#writer.write(encoder.encode("done\n"));
    await this.#writer.close();
    const out = await this.#child.output();
    if (!out.success) throw new Error(`git fast-import failed: ${decoder.decode(out.stderr)}`);
  }
}

/** Fast deterministic incompressible bytes (xorshift128). */
export class PseudoRandom {
  #s = new Uint32Array(4);

  constructor(seed: number) {
    this.#s.set([seed >>> 0 || 1, 0x9e3779b9, 0x243f6a88, 0xb7e15162]);
  }

  /** `size` fresh random bytes (`size` a multiple of 4). */
  bytes(size: number): Uint8Array {
    const words = new Uint32Array(size / 4);
    const s = this.#s;
    let [a, b, c, d] = s;
    for (let i = 0; i < words.length; i++) {
      let t = a ^ (a << 11);
      a = b;
      b = c;
      c = d;
      t = t ^ (t >>> 8);
      d = (d ^ (d >>> 19) ^ t) >>> 0;
      words[i] = d;
    }
    s.set([a, b, c, d]);
    return new Uint8Array(words.buffer);
  }
}
