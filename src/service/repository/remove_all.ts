/**
 * `RemoveAll`: empties a whole storage, as Gitaly does: every entry inside
 * the storage's directory (repositories, pools, Gitaly's own `+gitaly`
 * state) is removed, the directory itself stays. A storage directory that
 * does not exist counts as empty.
 *
 * @module
 */
import { join } from "node:path";
import { wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { readDirOrEmpty } from "../shared/storage.ts";

/** Builds the handler. */
export function removeAll(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "RemoveAll"> {
  return unary(async (req) => {
    try {
      const storagePath = deps.locator.storagePath(req.storage_name);
      for (const entry of await Array.fromAsync(readDirOrEmpty(storagePath))) {
        await Deno.remove(join(storagePath, entry.name), { recursive: true }).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
      }
    } catch (err) {
      throw wrapError("remove all", err);
    }
    return {};
  });
}
