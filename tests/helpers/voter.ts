/**
 * A stand-in for Praefect's transaction service: a client that connects
 * with the backchannel handshake and serves `gitaly.RefTransaction` on it,
 * so a server taking part in a transaction calls it back to vote. It
 * records every vote (transaction, node, phase, hash) and stop, and
 * answers as the test says (COMMIT by default).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { dialSidechannel } from "../../src/client/sidechannel.ts";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { SidechannelRegistry } from "../../src/sidechannel/registry.ts";
import { TRANSACTION_METADATA_KEY } from "../../src/service/shared/transaction.ts";

/** One vote as the voter saw it. */
export interface RecordedVote {
  id: number;
  node: string;
  /** `PREPARED_PHASE`, `COMMITTED_PHASE`, … */
  phase: string;
  /** The vote, hex. */
  hash: string;
}

/** What the voter answers a vote with: a state, or a gRPC error. */
export type VoteAnswer = "COMMIT" | "ABORT" | "STOP" | { code: number; message: string };

const PHASES = ["UNKNOWN_PHASE", "PREPARED_PHASE", "COMMITTED_PHASE", "SYNCHRONIZED_PHASE"];
const STATES = { COMMIT: 0, ABORT: 1, STOP: 2 };

let nextId = 1000;

/** A fake Praefect that serves RefTransaction over the backchannel of its connections. */
export class TestVoter {
  readonly votes: RecordedVote[] = [];
  readonly stops: number[] = [];
  /** Decides each answer (default: COMMIT). */
  answer: (vote: RecordedVote) => VoteAnswer = () => "COMMIT";
  readonly server = new grpc.Server();
  readonly #clients: grpc.Client[] = [];

  constructor() {
    this.server.addService(grpcServiceDefinition("gitaly.RefTransaction"), {
      VoteTransaction: (
        call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const req = call.request as {
          transaction_id: number | { toNumber(): number };
          node: string;
          reference_updates_hash: Uint8Array;
          phase: number;
        };
        const vote: RecordedVote = {
          id: Number(req.transaction_id),
          node: req.node,
          phase: PHASES[req.phase] ?? String(req.phase),
          hash: hex(req.reference_updates_hash),
        };
        this.votes.push(vote);
        const answer = this.answer(vote);
        if (typeof answer === "object") {
          callback({ code: answer.code, details: answer.message } as grpc.ServiceError, null);
        } else callback(null, { state: STATES[answer] });
      },
      StopTransaction: (
        call: grpc.ServerUnaryCall<{ transaction_id: number }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        this.stops.push(Number(call.request.transaction_id));
        callback(null, {});
      },
    });
  }

  /** A client of `address` whose connections serve this voter (close with {@link close}). */
  client(address: string, token?: string): grpc.Client {
    const client = dialSidechannel(address, new SidechannelRegistry(), {
      server: this.server,
      token,
    });
    this.#clients.push(client);
    return client;
  }

  /** Votes of transaction `id`. */
  votesOf(id: number): RecordedVote[] {
    return this.votes.filter((vote) => vote.id === id);
  }

  /** Closes every client and the callback server. */
  close(): void {
    for (const client of this.#clients.splice(0)) client.close();
    this.server.forceShutdown();
  }
}

/** A new transaction id (unique within the test process). */
export function newTransactionId(): number {
  return nextId++;
}

/** The metadata that makes a call take part in transaction `id` as `node`. */
export function transactionMetadata(
  id: number,
  node = "gitaly-1",
  primary = true,
): Record<string, string> {
  const json = JSON.stringify({ id, node, primary });
  return { [TRANSACTION_METADATA_KEY]: btoa(json) };
}

/** Hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
