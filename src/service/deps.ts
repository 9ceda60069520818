/**
 * What every service handler may use; built once by the `serve` command.
 *
 * @module
 */
import type { CatfileCache } from "../git/catfile.ts";
import type { GitRunner } from "../git/command.ts";
import type { Config } from "../server/config.ts";
import type { Locator } from "../server/locator.ts";
import type { Logger } from "../server/logger.ts";
import type { GitlabApi } from "../gitlab/client.ts";
import type { HooksRuntime } from "./hooks/runtime.ts";
import type { HousekeepingManager } from "./shared/housekeeping/manager.ts";
import type { TransactionManager } from "./shared/transaction.ts";

/** Shared dependencies of the service handlers. */
export interface ServiceDeps {
  config: Config;
  locator: Locator;
  git: GitRunner;
  catfile: CatfileCache;
  logger: Logger;
  /** The runtime directory with the hook scripts and the internal socket (pushes need it). */
  hooks?: HooksRuntime;
  /** GitLab's internal API, when `[gitlab] url` is configured. */
  gitlab?: GitlabApi;
  /**
   * Repository optimization, shared with the daily maintenance; built from
   * `git` and `logger` when absent (tests).
   */
  housekeeping?: HousekeepingManager;
  /**
   * Casts Praefect transaction votes; the default calls the transaction's
   * Praefect back over its multiplexed connection (tests record votes).
   */
  transactions?: TransactionManager;
}
