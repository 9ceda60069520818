/**
 * `ReferenceTransactionHook`: git's reference-transaction hook
 * (`prepared`, `committed`, `aborted`) with the queued updates on stdin.
 * Without a transaction in the hooks payload (no Praefect voting) there
 * is nothing to vote on and the hook succeeds.
 *
 * @module
 */
import { internal, invalidArgument } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import { ReferenceTransactionHookRequest_State as State } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { readStdin } from "./output.ts";
import { hooksPayloadFromEnv } from "./payload.ts";

/** Builds the handler. */
export function referenceTransactionHook(
  deps: ServiceDeps,
): Rpc<"gitaly.HookService", "ReferenceTransactionHook"> {
  return bidiStream(async (requests, _ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    await deps.locator.repoPath(first.repository);
    const state = Number(first.state ?? 0);
    if (![State.PREPARED, State.COMMITTED, State.ABORTED].includes(state)) {
      throw invalidArgument("invalid hook state");
    }
    await readStdin(rest);
    try {
      hooksPayloadFromEnv(first.environment_variables ?? []);
    } catch (error) {
      throw internal(
        `reference-transaction hook: extracting hooks payload: ${(error as Error).message}`,
      );
    }
    await send({ exit_status: { value: 0 } });
  });
}
