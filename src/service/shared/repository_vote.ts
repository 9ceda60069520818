/**
 * Voting on a new repository, as Gitaly's `repoutil.Create` does behind
 * Praefect: the vote is the SHA-1 of every file of the staged repository
 * (the object database and `FETCH_HEAD` left out, since neither need be
 * the same on every node), in the order Go's `filepath.WalkDir` visits
 * them (each directory's entries sorted by name, depth first). The
 * prepared vote is cast under the repository's lock before the move into
 * place, the committed vote after it; a refused prepared vote leaves the
 * target path untouched (`FailedPrecondition`, `preparatory vote: …`).
 * Custom hooks vote on their directory: each entry's relative path, its Go
 * file mode (4 bytes, big-endian) and a file's content, in walk order.
 * Removing a repository votes on `pre-remove <relative path>` before it is
 * moved away and `post-remove <relative path>` after.
 *
 * @module
 */
import { join, relative } from "node:path";
import { Code, wrapError } from "../../server/errors.ts";
import {
  transactionFromContext,
  type TransactionManager,
  transactionManagerOf,
  type Vote,
  voteFromData,
  VoteHash,
  type VotingContext,
} from "./transaction.ts";

/** The vote on the repository staged at `path`. */
export async function repositoryVote(path: string): Promise<Vote> {
  const hash = new VoteHash();
  await hashTree(path, path, hash);
  return hash.vote();
}

/** The entries of `dir` in the order Go's `filepath.WalkDir` visits them. */
async function sortedEntries(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  return entries.sort((a, b) => compareBytes(a.name, b.name));
}

async function hashFile(path: string, hash: VoteHash): Promise<void> {
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
}

/** The vote on a directory's names, modes and contents (Gitaly's `newDirectoryVote`). */
export async function directoryVote(base: string): Promise<Vote> {
  const hash = new VoteHash();
  const visit = async (path: string): Promise<void> => {
    const info = await Deno.lstat(path);
    hash.update(relative(base, path) || ".");
    const mode = new Uint8Array(4);
    new DataView(mode.buffer).setUint32(0, goFileMode(info));
    hash.update(mode);
    if (!info.isDirectory) return await hashFile(path, hash);
    for (const entry of await sortedEntries(path)) await visit(join(path, entry.name));
  };
  await visit(base);
  return hash.vote();
}

/** Go's `fs.FileMode` of a file: permission bits, setuid/setgid/sticky and the type bits. */
function goFileMode(info: Deno.FileInfo): number {
  const raw = info.mode ?? 0;
  let mode = raw & 0o777;
  if (raw & 0o4000) mode |= 1 << 23;
  if (raw & 0o2000) mode |= 1 << 22;
  if (raw & 0o1000) mode |= 1 << 20;
  if (info.isDirectory) mode |= 1 << 31;
  if (info.isSymlink) mode |= 1 << 27;
  return mode >>> 0;
}

async function hashTree(root: string, dir: string, hash: VoteHash): Promise<void> {
  for (const entry of await sortedEntries(dir)) {
    const path = join(dir, entry.name);
    if (path === join(root, "objects") && entry.isDirectory) continue;
    if (path === join(root, "FETCH_HEAD")) continue;
    if (entry.isDirectory) {
      await hashTree(root, path, hash);
      continue;
    }
    await hashFile(path, hash);
  }
}

function compareBytes(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * The `around` step of `moveIntoPlace` for a call that may take part in a
 * transaction: votes on the staged repository before and after the move.
 * Without a transaction it only moves.
 */
export function votedMove(
  deps: { transactions?: TransactionManager },
  ctx: VotingContext | undefined,
  stagedPath: string,
): (rename: () => Promise<void>) => Promise<void> {
  const tx = ctx ? transactionFromContext(ctx) : undefined;
  if (!tx || !ctx) return (rename) => rename();
  const manager = transactionManagerOf(deps);
  return async (rename) => {
    const vote = await repositoryVote(stagedPath);
    await manager.vote(tx, vote, "prepared", ctx.signal).catch((error) => {
      throw wrapError("preparatory vote", error, Code.FAILED_PRECONDITION);
    });
    await rename();
    await manager.vote(tx, vote, "committed", ctx.signal).catch((error) => {
      throw wrapError("committing vote", error, Code.FAILED_PRECONDITION);
    });
  };
}

/**
 * The `around` step of `removeRepositoryDir` for a call that may take part
 * in a transaction (Gitaly's `repoutil.Remove`): `pre-remove <path>` in the
 * prepared phase before the repository moves away, `post-remove <path>` in
 * the committed phase after. A refused prepared vote removes nothing.
 */
export function votedRemoval(
  deps: { transactions?: TransactionManager },
  ctx: VotingContext,
  relativePath: string,
): (rename: () => Promise<void>) => Promise<void> {
  const tx = transactionFromContext(ctx);
  if (!tx) return (rename) => rename();
  const manager = transactionManagerOf(deps);
  return async (rename) => {
    await manager.vote(tx, voteFromData(`pre-remove ${relativePath}`), "prepared", ctx.signal)
      .catch((error) => {
        throw wrapError("vote on rename", error);
      });
    await rename();
    await manager.vote(tx, voteFromData(`post-remove ${relativePath}`), "committed", ctx.signal)
      .catch((error) => {
        throw wrapError("vote on finalizing", error);
      });
  };
}
