/**
 * Helpers for the tests of src/git: temp repositories and process checks.
 *
 * @module
 */

import { GitRunner, type GitRunnerOptions } from "../../src/git/command.ts";
import type { ObjectFormat } from "../../src/git/objectid.ts";

const encoder = new TextEncoder();

/** Author and committer identity used for test commits. */
export const TEST_IDENTITY: Record<string, string> = {
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_AUTHOR_DATE: "1700000000 +0000",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_COMMITTER_DATE: "1700000000 +0000",
};

/** A runner for tests (default options unless overridden). */
export function testRunner(options: GitRunnerOptions = {}): GitRunner {
  return new GitRunner(options);
}

/** Runs `fn` with a fresh temp directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "git-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A small bare repository with one commit holding README and big.bin. */
export interface TestRepo {
  path: string;
  format: ObjectFormat;
  commit: string;
  tree: string;
  readme: string;
  readmeContent: Uint8Array;
  bigBlob: string;
  bigContent: Uint8Array;
}

/** Deterministic pseudo-random bytes (xorshift32) so failures reproduce. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Creates a bare repository in `dir/name` with one commit on main. */
export async function createTestRepo(
  runner: GitRunner,
  dir: string,
  format: ObjectFormat = "sha1",
  bigSize = 1024 * 1024,
): Promise<TestRepo> {
  const path = `${dir}/${format}.git`;
  await runner.runOk({ args: ["init", "--bare", "--quiet", `--object-format=${format}`, path] });
  const text = (s: Uint8Array) => new TextDecoder().decode(s).trim();
  const writeBlob = async (content: Uint8Array) =>
    text(
      (await runner.runOk({ gitDir: path, args: ["hash-object", "-w", "--stdin"], stdin: content }))
        .stdout,
    );
  const readmeContent = encoder.encode("hello from the test repository\n");
  const bigContent = patternBytes(bigSize, 7);
  const readme = await writeBlob(readmeContent);
  const bigBlob = await writeBlob(bigContent);
  const treeInput = `100644 blob ${readme}\tREADME\n100644 blob ${bigBlob}\tbig.bin\n`;
  const tree = text(
    (await runner.runOk({ gitDir: path, args: ["mktree"], stdin: encoder.encode(treeInput) }))
      .stdout,
  );
  const commit = text(
    (await runner.runOk({
      gitDir: path,
      args: ["commit-tree", tree, "-m", "initial commit"],
      env: TEST_IDENTITY,
    })).stdout,
  );
  await runner.runOk({ gitDir: path, args: ["update-ref", "refs/heads/main", commit] });
  await runner.runOk({ gitDir: path, args: ["symbolic-ref", "HEAD", "refs/heads/main"] });
  return { path, format, commit, tree, readme, readmeContent, bigBlob, bigContent };
}

/**
 * True while `pid` names a live process. `kill -0` alone is not enough for
 * grandchildren: reparented to a PID 1 that may not reap, they linger as
 * zombies, which count as dead here.
 */
export async function isAlive(pid: number): Promise<boolean> {
  const probe = await new Deno.Command("sh", {
    args: ["-c", `kill -0 ${pid} 2>/dev/null`],
  }).output();
  if (!probe.success) return false;
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return concat(chunks, size);
}

/** Concatenates chunks. */
export function concat(chunks: Uint8Array[], size?: number): Uint8Array {
  const out = new Uint8Array(size ?? chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads text lines from a stream until `predicate` matches one; returns that line. */
export async function readLineMatching(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (line: string) => boolean,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before a matching line; got ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
    const lines = text.split("\n");
    text = lines.pop()!;
    const match = lines.find(predicate);
    if (match !== undefined) return match;
  }
}
