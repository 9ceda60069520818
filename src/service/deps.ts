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
import type { HousekeepingManager } from "./shared/housekeeping/manager.ts";

/** Shared dependencies of the service handlers. */
export interface ServiceDeps {
  config: Config;
  locator: Locator;
  git: GitRunner;
  catfile: CatfileCache;
  logger: Logger;
  /**
   * Repository optimization, shared with the daily maintenance; built from
   * `git` and `logger` when absent (tests).
   */
  housekeeping?: HousekeepingManager;
}
