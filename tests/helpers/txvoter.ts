/**
 * The Go stand-in for Praefect's transaction service (tests/interop/txvoter):
 * a proxy that connects to a Gitaly with the backchannel handshake, serves
 * RefTransaction on it and forwards every call made to its own socket, so
 * the Gitaly votes back to it. Works with any Gitaly (ours and the real
 * one); see {@link TestVoter} for the in-process one.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../../src/client/mod.ts";
import { goBinary } from "./go.ts";
import type { RecordedVote } from "./voter.ts";

/** How the voter answers a transaction's votes. */
export type GoVoteAnswer = "COMMIT" | "ABORT" | "STOP" | `ERROR ${string}`;

/** A running txvoter in front of one Gitaly. */
export interface GoVoter {
  /** Calls made on this connection reach the Gitaly over the voter's backchannel connection. */
  conn: grpc.Client;
  /** The voter's own address (`unix:…`), for clients such as gitaly-ssh. */
  address: string;
  /** Sets how transaction `id`'s votes are answered. */
  answer(id: number, answer: GoVoteAnswer): Promise<void>;
  /**
   * Makes calls that carry no transaction metadata take part in transaction
   * `id` (for clients that cannot add metadata, e.g. gitaly-ssh); null: none.
   */
  inject(tx: { id: number; node: string; primary: boolean } | null): Promise<void>;
  /** Votes of transaction `id` so far. */
  votesOf(id: number): Promise<RecordedVote[]>;
  /** Transactions stopped so far. */
  stops(): Promise<number[]>;
  stop(): Promise<void>;
}

/** Starts a txvoter for the Gitaly listening on the Unix socket `gitalySocket`. */
export async function startGoVoter(gitalySocket: string, dir: string): Promise<GoVoter> {
  const binary = await goBinary("txvoter");
  const socket = join(dir, `txvoter-${crypto.randomUUID().slice(0, 8)}.sock`);
  const child = new Deno.Command(binary, {
    args: [socket, gitalySocket],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).startsWith("listening")) {
    throw new Error("txvoter did not start");
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const conn = dial(`unix:${socket}`);
  const control = (request: Record<string, unknown>) =>
    new Promise<{ votes: RecordedVote[] | null; stops: number[] | null }>((resolve, reject) => {
      conn.makeUnaryRequest(
        "/txvoter.Voter/Control",
        (v: Buffer) => v,
        (b: Buffer) => JSON.parse(b.toString()),
        Buffer.from(JSON.stringify(request)),
        (error, value) => error ? reject(error) : resolve(value!),
      );
    });
  return {
    conn,
    address: `unix:${socket}`,
    answer: async (id, answer) => void await control({ id, answer }),
    inject: async (tx) => void await control({ inject: tx }),
    votesOf: async (id) => ((await control({})).votes ?? []).filter((v) => v.id === id),
    stops: async () => (await control({})).stops ?? [],
    async stop() {
      conn.close();
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(socket).catch(() => {});
    },
  };
}
