/**
 * Which RPC the running code serves, for work started on its behalf (git
 * processes) that is labelled by the call in metrics, as Gitaly labels its
 * command statistics with `grpc_service` and `grpc_method`.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The RPC a piece of work belongs to. */
export interface CallScope {
  /** Fully qualified service, e.g. `gitaly.RepositoryService`. */
  service: string;
  /** Method name, e.g. `CreateRepository`. */
  method: string;
}

const storage = new AsyncLocalStorage<CallScope>();

/** Runs `fn` (and everything it starts asynchronously) as part of `scope`. */
export function runInCallScope<T>(scope: CallScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The call the current code runs for; undefined outside any call (e.g. at start-up). */
export function currentCallScope(): CallScope | undefined {
  return storage.getStore();
}
