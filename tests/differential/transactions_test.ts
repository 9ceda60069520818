/**
 * Transactional voting, ours against the reference Gitaly: the same
 * reference-changing calls, made with Praefect's transaction metadata
 * through a Go stand-in for Praefect (tests/interop/txvoter, which serves
 * RefTransaction on its backchannel connection), must cast the same votes
 * (phases and hashes) on both sides, and a refused vote must fail the call
 * alike and leave the references as they were.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { serviceClient } from "../../src/client/services.ts";
import { GO } from "../helpers/go.ts";
import { type GoVoteAnswer, type GoVoter, startGoVoter } from "../helpers/txvoter.ts";
import { newTransactionId, type RecordedVote, transactionMetadata } from "../helpers/voter.ts";
import { configureServers, differentialTest, type Harness, type Side, SIDES } from "./harness.ts";

const voters = new Map<Side, Promise<GoVoter>>();

configureServers(() =>
  Promise.resolve({
    cleanup: async () => {
      for (const voter of voters.values()) await (await voter).stop();
      voters.clear();
    },
  })
);

function voterFor(h: Harness, side: Side): Promise<GoVoter> {
  let voter = voters.get(side);
  if (!voter) {
    voter = startGoVoter(h.addresses[side].replace(/^unix:/, ""), h.dir);
    voters.set(side, voter);
  }
  return voter;
}

/** What one side did in its transaction. */
interface Outcome {
  votes: Omit<RecordedVote, "id">[];
  error?: { code: number; message: string };
}

/** Runs `call` on each side in a transaction of its own, answered with `answer`. */
async function onBothSides(
  h: Harness,
  call: (conn: grpc.Client, metadata: Record<string, string>, side: Side) => Promise<unknown>,
  answer: GoVoteAnswer = "COMMIT",
): Promise<Record<Side, Outcome>> {
  const out = {} as Record<Side, Outcome>;
  for (const side of SIDES) {
    const voter = await voterFor(h, side);
    const id = newTransactionId();
    await voter.answer(id, answer);
    let error: Outcome["error"];
    try {
      await call(voter.conn, transactionMetadata(id), side);
    } catch (e) {
      const err = e as grpc.ServiceError;
      error = { code: err.code, message: err.details ?? err.message };
    }
    const votes = (await voter.votesOf(id)).map(({ id: _, ...vote }) => vote);
    out[side] = error ? { votes, error } : { votes };
  }
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);

differentialTest("explore", async (h) => {
  const repo = await h.repo("rich");
  const rs = (conn: grpc.Client) => serviceClient("gitaly.RepositoryService", conn);
  for (
    const [what, answer, request] of [
      ["branch", "COMMIT", { ref: "refs/heads/tx-new", revision: "refs/heads/main" }],
      ["HEAD", "COMMIT", { ref: "HEAD", revision: "refs/heads/tx-new" }],
      ["abort", "ABORT", { ref: "refs/heads/tx-abort", revision: "refs/heads/main" }],
      ["HEAD abort", "ABORT", { ref: "HEAD", revision: "refs/heads/feature/merged" }],
      ["stop", "STOP", { ref: "refs/heads/tx-stop", revision: "refs/heads/main" }],
      ["err", "ERROR nope", { ref: "refs/heads/tx-err", revision: "refs/heads/main" }],
    ] as const
  ) {
    const result = await onBothSides(h, (conn, metadata) =>
      rs(conn).writeRef({
        repository: repo,
        ref: bytes(request.ref),
        revision: bytes(request.revision),
      }, { metadata }), answer);
    console.log(what, JSON.stringify(result, null, 1));
  }
  console.log(await h.compareRefs(repo));
});
