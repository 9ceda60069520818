/**
 * Voting through git's reference-transaction hook, as Gitaly runs every
 * reference-updating git (`WithRefTxHook`): when the call carries a
 * Praefect transaction, git runs with the server's hooks directory and a
 * hooks payload asking for the reference-transaction hook only, so git
 * itself reports each transaction's queued updates and the hook votes on
 * their SHA-1 in the prepared and committed phases (see
 * ReferenceTransactionHook). A refused prepared vote makes git abort the
 * transaction: nothing changes. Without a transaction git runs as before.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import type { Repository } from "../../proto/types.ts";
import { failedPrecondition } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  encodeHooksPayload,
  Hook,
  HOOKS_PAYLOAD_ENV,
  serverHooksPayload,
} from "../hooks/payload.ts";
import { transactionFromContext, type VotingContext } from "./transaction.ts";

/** What to add to a git command so that it votes (both empty without a transaction). */
export interface RefTxHookOptions {
  config: GitConfigEntry[];
  env: Record<string, string>;
}

/**
 * The config (`core.hooksPath`, last so nothing overrides it) and
 * environment (`GITALY_HOOKS_PAYLOAD`) for a git that updates references
 * of `repository` on behalf of the call `ctx`.
 */
export async function refTxHook(
  deps: ServiceDeps,
  ctx: VotingContext,
  repository: Partial<Repository> | null | undefined,
): Promise<RefTxHookOptions> {
  const transaction = transactionFromContext(ctx);
  if (!transaction) return { config: [], env: {} };
  const runtime = deps.hooks;
  if (!runtime) throw failedPrecondition("transactional voting needs the server's hooks runtime");
  await runtime.prepare();
  const payload = encodeHooksPayload(serverHooksPayload(runtime, deps.config.auth.token, {
    requestedHooks: Hook.ReferenceTransaction,
    transaction,
    repository: { ...repository },
  }));
  return {
    config: [{ key: "core.hooksPath", value: runtime.hooksDir }],
    env: { [HOOKS_PAYLOAD_ENV]: payload },
  };
}
