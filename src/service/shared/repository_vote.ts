/**
 * Voting on a new repository, as Gitaly's `repoutil.Create` does behind
 * Praefect: the vote is the SHA-1 of every file of the staged repository
 * (the object database and `FETCH_HEAD` left out, since neither need be
 * the same on every node), in the order Go's `filepath.WalkDir` visits
 * them (each directory's entries sorted by name, depth first). The
 * prepared vote is cast under the repository's lock before the move into
 * place, the committed vote after it; a refused prepared vote leaves the
 * target path untouched (`FailedPrecondition`, `preparatory vote: …`).
 *
 * @module
 */
import { join } from "node:path";
import { Code, wrapError } from "../../server/errors.ts";
import {
  transactionFromContext,
  type TransactionManager,
  transactionManagerOf,
  type Vote,
  VoteHash,
  type VotingContext,
} from "./transaction.ts";

/** The vote on the repository staged at `path`. */
export async function repositoryVote(path: string): Promise<Vote> {
  const hash = new VoteHash();
  await hashTree(path, path, hash);
  return hash.vote();
}

async function hashTree(root: string, dir: string, hash: VoteHash): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => compareBytes(a.name, b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (path === join(root, "objects") && entry.isDirectory) continue;
    if (path === join(root, "FETCH_HEAD")) continue;
    if (entry.isDirectory) {
      await hashTree(root, path, hash);
      continue;
    }
    using file = await Deno.open(path);
    for await (const chunk of file.readable) hash.update(chunk);
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
