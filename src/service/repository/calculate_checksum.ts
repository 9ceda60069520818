/**
 * `CalculateChecksum`: Gitaly's checksum of a repository's references,
 * which Praefect compares across replicas: the XOR of the SHA-1 of each
 * `git show-ref --head` line naming HEAD or a ref under heads, tags,
 * keep-around, merge-requests, environments or notes, as a big-endian
 * number in hex (leading zero bytes dropped); all zeros when there are no
 * such refs.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { RecordReader } from "../../git/lines.ts";
import { Code, GrpcError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** The checksum of a repository without references. */
export const ZERO_CHECKSUM = "0".repeat(40);

/** Which `show-ref` lines count (matched anywhere in the line, as Gitaly matches). */
const REFS_ALLOWED = /HEAD|(refs\/(heads|tags|keep-around|merge-requests|environments|notes)\/)/;

/** Builds the handler. */
export function calculateChecksum(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CalculateChecksum"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const git = await deps.git.start({
      gitDir: repoPath,
      command: { name: "show-ref", flags: ["--head"] },
      signal: ctx.signal,
    });
    const sum = new Uint8Array(20);
    let added = false;
    const reader = new RecordReader(git.stdout);
    const decoder = new TextDecoder();
    while (true) {
      const record = await reader.next();
      if (record === null) break;
      const line = record.at(-1) === 0x0a ? record.subarray(0, record.byteLength - 1) : record;
      if (!REFS_ALLOWED.test(decoder.decode(line))) continue;
      const digest = createHash("sha1").update(line).digest();
      for (let i = 0; i < 20; i++) sum[i] ^= digest[i];
      added = true;
    }
    const exit = await git.wait();
    const first = sum.findIndex((b) => b !== 0);
    if (exit.code !== 0 || !added || first < 0) {
      if (await isBareRepository(deps, repoPath, ctx.signal)) return { checksum: ZERO_CHECKSUM };
      throw new GrpcError(Code.DATA_LOSS, `not a git repository '${repoPath}'`);
    }
    const hex = Array.from(sum.subarray(first), (b) => b.toString(16).padStart(2, "0")).join("");
    return { checksum: hex };
  });
}

async function isBareRepository(deps: ServiceDeps, repoPath: string, signal: AbortSignal) {
  const result = await deps.git.run({
    gitDir: repoPath,
    command: { name: "rev-parse", flags: ["--is-bare-repository"] },
    signal,
  });
  return result.code === 0 &&
    new TextDecoder().decode(result.stdout).trim().toLowerCase() === "true";
}
