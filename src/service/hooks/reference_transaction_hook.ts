/**
 * `ReferenceTransactionHook`: git's reference-transaction hook
 * (`prepared`, `committed`, `aborted`) with the queued updates on stdin.
 * When the hooks payload carries a Praefect transaction, the `prepared`
 * and `committed` phases vote on it with the SHA-1 of the hook's stdin,
 * as Gitaly votes: the prepared vote is the one that can still stop git
 * (an ABORT or STOP answer fails the hook, and git leaves every reference
 * as it was); the committed vote tells Praefect the change landed.
 * `aborted` never votes, and neither does a transaction made only of
 * force-deletions (git's packed-refs clean-up when it deletes references,
 * whose loose-reference transaction carries the same deletions and votes).
 * Without a transaction there is nothing to vote on and the hook succeeds.
 *
 * @module
 */
import { Code, GrpcError, internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import { ReferenceTransactionHookRequest_State as State } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest } from "../shared/git_stream.ts";
import {
  type Transaction,
  TransactionAbortedError,
  type TransactionManager,
  transactionManagerOf,
  TransactionStoppedError,
  voteFromData,
  type VotePhase,
} from "../shared/transaction.ts";
import { readStdin } from "./output.ts";
import { hooksPayloadFromEnv } from "./payload.ts";

/** Builds the handler. */
export function referenceTransactionHook(
  deps: ServiceDeps,
): Rpc<"gitaly.HookService", "ReferenceTransactionHook"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    await deps.locator.repoPath(first.repository);
    const state = Number(first.state ?? 0);
    if (![State.PREPARED, State.COMMITTED, State.ABORTED].includes(state)) {
      throw invalidArgument("invalid hook state");
    }
    const stdin = await readStdin(rest); // as with Gitaly, the first message carries no stdin
    await referenceTransaction(deps, first.environment_variables ?? [], state, stdin, ctx.signal);
    await send({ exit_status: { value: 0 } });
  });
}

/**
 * What the hook does in state `state` (a {@link State}) with the queued
 * `changes` on stdin and the hook's environment `env`: votes when the
 * hooks payload carries a transaction. Throws as the RPC fails.
 */
export async function referenceTransaction(
  deps: ServiceDeps,
  env: readonly string[],
  state: number,
  changes: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  let payload;
  try {
    payload = hooksPayloadFromEnv(env);
  } catch (error) {
    throw internal(
      `reference-transaction hook: extracting hooks payload: ${(error as Error).message}`,
    );
  }
  const phase: VotePhase | undefined = state === State.PREPARED
    ? "prepared"
    : state === State.COMMITTED
    ? "committed"
    : undefined;
  if (phase && payload.transaction) {
    await voteOnReferenceChanges(deps, payload.transaction, changes, phase, signal)
      .catch((error) => {
        throw wrapError("reference-transaction hook", error);
      });
  }
}

/**
 * What the hook does in `phase` for the queued `changes` (`old new ref`
 * lines): votes on their SHA-1 unless they are force-deletions only.
 * Throws as Gitaly's hook manager does: `Aborted` for an aborted
 * transaction, `FailedPrecondition` for a stopped one, else `Internal`,
 * worded `error voting on transaction: …` (the RPC prefixes
 * `reference-transaction hook: `). Code that updates references itself
 * with git's hook left out (as Gitaly's `UpdaterWithHooks` does) calls this
 * after its prepare and after its commit.
 */
export async function voteOnReferenceChanges(
  deps: { transactions?: TransactionManager },
  tx: Transaction,
  changes: Uint8Array,
  phase: "prepared" | "committed",
  signal?: AbortSignal,
): Promise<void> {
  if (isForceDeletionsOnly(changes)) return;
  try {
    await transactionManagerOf(deps).vote(tx, voteFromData(changes), phase, signal);
  } catch (error) {
    const message = `error voting on transaction: ${(error as Error).message}`;
    if (error instanceof TransactionAbortedError) throw new GrpcError(Code.ABORTED, message);
    if (error instanceof TransactionStoppedError) {
      throw new GrpcError(Code.FAILED_PRECONDITION, message);
    }
    throw internal(message);
  }
}

/** The zero object ids of SHA-1 and SHA-256. */
const ZERO_OIDS = ["0".repeat(40), "0".repeat(64)];

/**
 * True when every queued update deletes a reference without checking its
 * value (`<zero> <zero> <ref>`), as git's packed-refs transaction does.
 */
export function isForceDeletionsOnly(changes: Uint8Array): boolean {
  const lines = new TextDecoder().decode(changes).split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.every((line) => ZERO_OIDS.some((zero) => line.startsWith(`${zero} ${zero} `)));
}
