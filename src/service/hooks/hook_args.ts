/**
 * The arguments git gives the hooks, checked as Gitaly's gitaly-hooks
 * checks them (same messages), by the `hooks` subcommand and the hook
 * socket alike.
 *
 * @module
 */
import { ReferenceTransactionHookRequest_State as State } from "../../proto/types.ts";

const STATES: Record<string, State> = {
  prepared: State.PREPARED,
  committed: State.COMMITTED,
  aborted: State.ABORTED,
};

/** The update hook's `ref old new`. */
export function updateHookArgs(args: readonly string[]): [string, string, string] {
  if (args.length !== 3) {
    throw new Error(`update hook expects exactly three arguments, got ${JSON.stringify(args)}`);
  }
  return [args[0], args[1], args[2]];
}

/** The reference-transaction hook's state (`prepared`, `committed` or `aborted`). */
export function referenceTransactionState(args: readonly string[]): State {
  if (args.length !== 1) {
    throw new Error(
      `reference-transaction hook is missing required arguments, got ${JSON.stringify(args)}`,
    );
  }
  const state = Object.hasOwn(STATES, args[0]) ? STATES[args[0]] : undefined;
  if (state === undefined) {
    throw new Error(`reference-transaction hook has invalid state: ${JSON.stringify(args[0])}`);
  }
  return state;
}
