/**
 * Transactional voting, as Gitaly votes behind Praefect: a call that
 * carries Praefect's transaction (metadata `gitaly-reference-transaction`,
 * base64 of JSON `{"id":…,"node":"…","primary":…}`) arrives on a
 * multiplexed connection; every change of the repository is voted on by
 * calling `gitaly.RefTransaction/VoteTransaction` back on that connection
 * with the SHA-1 of the change's data and the phase (`prepared` before the
 * change is made, `committed` after). A vote answered ABORT or STOP, or a
 * failed vote, fails the change before anything is written. Hooks, which
 * call in on another connection, find the connection by the backchannel id
 * recorded in the hooks payload.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { callPeer, PeerCallError } from "../../backchannel/call.ts";
import { type BackchannelPeer, peerById } from "../../backchannel/peer.ts";
import { messageType } from "../../proto/mod.ts";
import {
  VoteTransactionRequest_Phase as ProtoPhase,
  VoteTransactionResponse_TransactionState as State,
} from "../../proto/types.ts";
import type { CallContext } from "../../server/rpc.ts";
import { metadataValue } from "../../server/rpc.ts";

/** The metadata key Praefect puts the transaction under. */
export const TRANSACTION_METADATA_KEY = "gitaly-reference-transaction";

/** How long a vote or stop may take (Gitaly's transaction timeout: 5 minutes). */
export const TRANSACTION_TIMEOUT_MS = 5 * 60 * 1000;

/** A transaction a call takes part in, as Praefect serializes it (and the hooks payload carries it). */
export interface Transaction {
  /** The multiplexed connection of the Praefect that runs the transaction (filled in by us). */
  backchannel_id?: number;
  /** The transaction's id. */
  id: number;
  /** The name this node votes as. */
  node: string;
  /** Whether this node is the primary (only the primary runs hooks that talk to GitLab). */
  primary: boolean;
}

/** The phases a vote can be cast in. */
export type VotePhase = "unknown" | "prepared" | "committed" | "synchronized";

const PHASES: Record<VotePhase, ProtoPhase> = {
  unknown: ProtoPhase.UNKNOWN_PHASE,
  prepared: ProtoPhase.PREPARED_PHASE,
  committed: ProtoPhase.COMMITTED_PHASE,
  synchronized: ProtoPhase.SYNCHRONIZED_PHASE,
};

/** The size of a vote: a SHA-1. */
export const VOTE_SIZE = 20;

/** A vote: the SHA-1 of the data voted on. */
export type Vote = Uint8Array;

/** The all-zero vote (Gitaly's `voting.Vote{}`), cast e.g. at the end of a push. */
export const ZERO_VOTE: Vote = new Uint8Array(VOTE_SIZE);

/** The vote on `data` (Gitaly's `voting.VoteFromData`). */
export function voteFromData(data: Uint8Array | string): Vote {
  return new VoteHash().update(data).vote();
}

/** Hashes data fed in pieces into a vote (Gitaly's `voting.NewVoteHash`). */
export class VoteHash {
  readonly #hash = createHash("sha1");

  /** Adds `data`; returns `this`. */
  update(data: Uint8Array | string): this {
    this.#hash.update(data);
    return this;
  }

  /** The vote on everything added. */
  vote(): Vote {
    return new Uint8Array(this.#hash.digest());
  }
}

/** The vote as hex, as Gitaly logs it. */
export function voteHex(vote: Vote): string {
  return Array.from(vote, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The transaction's voters did not agree, or it timed out (Gitaly's `ErrTransactionAborted`). */
export class TransactionAbortedError extends Error {
  constructor() {
    super("transaction was aborted");
    this.name = "TransactionAbortedError";
  }
}

/** The transaction was stopped, e.g. because a hook refused the change (`ErrTransactionStopped`). */
export class TransactionStoppedError extends Error {
  constructor() {
    super("transaction was stopped");
    this.name = "TransactionStoppedError";
  }
}

/** The transaction metadata or its connection cannot be used. */
export class TransactionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransactionError";
  }
}

/** Casts votes on and stops transactions (Gitaly's `transaction.Manager`). */
export interface TransactionManager {
  /**
   * Votes `vote` in `phase`; resolves when the transaction may go on.
   * Rejects with {@link TransactionAbortedError} or
   * {@link TransactionStoppedError} when it may not, or with the failure.
   */
  vote(tx: Transaction, vote: Vote, phase: VotePhase, signal?: AbortSignal): Promise<void>;
  /** Stops the transaction gracefully (the other voters give up waiting). */
  stop(tx: Transaction, signal?: AbortSignal): Promise<void>;
}

const VOTE_PATH = "/gitaly.RefTransaction/VoteTransaction";
const STOP_PATH = "/gitaly.RefTransaction/StopTransaction";

/**
 * The manager that votes over the backchannel: it calls the transaction's
 * Praefect back on the multiplexed connection the call came in on.
 */
export class BackchannelTransactionManager implements TransactionManager {
  readonly lookup: (id: number) => BackchannelPeer | undefined;
  readonly timeoutMs: number;
  readonly #observe?: (seconds: number) => void;

  /**
   * `lookup` finds a connection by backchannel id (default: the server's
   * open connections); `observeVote` is told how long each vote took.
   */
  constructor(options: {
    lookup?: (id: number) => BackchannelPeer | undefined;
    timeoutMs?: number;
    observeVote?: (seconds: number) => void;
  } = {}) {
    this.lookup = options.lookup ?? peerById;
    this.timeoutMs = options.timeoutMs ?? TRANSACTION_TIMEOUT_MS;
    this.#observe = options.observeVote;
  }

  async vote(tx: Transaction, vote: Vote, phase: VotePhase, signal?: AbortSignal): Promise<void> {
    const started = performance.now();
    try {
      await this.#vote(tx, vote, phase, signal);
    } finally {
      this.#observe?.((performance.now() - started) / 1000);
    }
  }

  async #vote(tx: Transaction, vote: Vote, phase: VotePhase, signal?: AbortSignal): Promise<void> {
    const peer = this.#peer(tx);
    const request = messageType("gitaly.VoteTransactionRequest");
    const response = messageType("gitaly.VoteTransactionResponse");
    const body = request.encode(request.fromObject({
      transaction_id: tx.id,
      node: tx.node,
      reference_updates_hash: vote,
      phase: PHASES[phase],
    })).finish();
    let answer: Uint8Array;
    try {
      answer = await callPeer(peer, VOTE_PATH, body, { signal, timeoutMs: this.timeoutMs });
    } catch (error) {
      if (error instanceof PeerCallError && error.code === 4 && !signal?.aborted) {
        throw new TransactionError(
          `transaction timeout ${this.timeoutMs / 1000}s exceeded: ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
    const state = Number((response.decode(answer) as unknown as { state?: number }).state ?? 0);
    switch (state) {
      case State.COMMIT:
        return;
      case State.ABORT:
        throw new TransactionAbortedError();
      case State.STOP:
        throw new TransactionStoppedError();
      default:
        throw new TransactionError("invalid transaction state");
    }
  }

  async stop(tx: Transaction, signal?: AbortSignal): Promise<void> {
    const peer = this.#peer(tx);
    const request = messageType("gitaly.StopTransactionRequest");
    const body = request.encode(request.fromObject({ transaction_id: tx.id })).finish();
    await callPeer(peer, STOP_PATH, body, { signal, timeoutMs: this.timeoutMs });
  }

  #peer(tx: Transaction): BackchannelPeer {
    const peer = tx.backchannel_id === undefined ? undefined : this.lookup(tx.backchannel_id);
    if (!peer) {
      throw new TransactionError(
        `get backchannel: no backchannel for peer ${tx.backchannel_id ?? 0}`,
      );
    }
    return peer;
  }
}

/** The manager used when the service dependencies name none. */
export const defaultTransactionManager: TransactionManager = new BackchannelTransactionManager();

/** The manager of `deps` (tests put a recording one there). */
export function transactionManagerOf(
  deps: { transactions?: TransactionManager },
): TransactionManager {
  return deps.transactions ?? defaultTransactionManager;
}

/**
 * The transaction the call takes part in, or undefined when it carries
 * none (Gitaly's `txinfo.TransactionFromContext`): the metadata decoded,
 * with the backchannel id of the connection it came in on. Malformed
 * metadata throws {@link TransactionError} (`from serialized: …`).
 */
export function transactionFromContext(
  ctx: Pick<CallContext, "metadata" | "backchannel">,
): Transaction | undefined {
  const serialized = metadataValue(ctx.metadata, TRANSACTION_METADATA_KEY);
  if (serialized === undefined || serialized === "") return undefined;
  let json: Record<string, unknown>;
  try {
    const binary = atob(serialized);
    const parsed = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error("json: cannot unmarshal into Go value of type txinfo.Transaction");
    }
    json = parsed as Record<string, unknown>;
  } catch (error) {
    throw new TransactionError(`from serialized: ${(error as Error).message}`, { cause: error });
  }
  const tx: Transaction = {
    id: typeof json.id === "number" ? json.id : 0,
    node: typeof json.node === "string" ? json.node : "",
    primary: json.primary === true,
  };
  if (ctx.backchannel) tx.backchannel_id = ctx.backchannel.id;
  return tx;
}

/** Whether this node is the primary of `tx`; without a transaction every node is. */
export function isPrimary(tx: Transaction | null | undefined): boolean {
  return tx ? tx.primary : true;
}

/** What {@link voteOnContext} needs of a call. */
export type VotingContext = Pick<CallContext, "metadata" | "backchannel" | "signal">;

/**
 * Votes `vote` in `phase` when the call carries a transaction, else does
 * nothing (Gitaly's `transaction.VoteOnContext`).
 */
export async function voteOnContext(
  deps: { transactions?: TransactionManager },
  ctx: VotingContext,
  vote: Vote,
  phase: VotePhase,
): Promise<void> {
  const tx = transactionFromContext(ctx);
  if (tx) await transactionManagerOf(deps).vote(tx, vote, phase, ctx.signal);
}

/**
 * Votes on a change the way Gitaly votes on a locked file: `prepared`
 * with `vote`, then `apply()`, then `committed` with the same vote. A
 * failed prepared vote leaves everything unchanged; `wrap` names the
 * step in the error (`preimage vote: …`, `postimage vote: …`).
 */
export async function voteAround<T>(
  deps: { transactions?: TransactionManager },
  ctx: VotingContext,
  vote: Vote | (() => Promise<Vote> | Vote),
  apply: () => Promise<T>,
  labels: { prepared: string; committed: string } = {
    prepared: "preimage vote",
    committed: "postimage vote",
  },
): Promise<T> {
  const tx = transactionFromContext(ctx);
  if (!tx) return await apply();
  const manager = transactionManagerOf(deps);
  const value = typeof vote === "function" ? await vote() : vote;
  await labelled(labels.prepared, manager.vote(tx, value, "prepared", ctx.signal));
  const result = await apply();
  await labelled(labels.committed, manager.vote(tx, value, "committed", ctx.signal));
  return result;
}

async function labelled(label: string, promise: Promise<void>): Promise<void> {
  try {
    await promise;
  } catch (error) {
    throw new TransactionError(`${label}: ${(error as Error).message}`, { cause: error });
  }
}
