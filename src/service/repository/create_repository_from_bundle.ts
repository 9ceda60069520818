/**
 * `CreateRepositoryFromBundle`: a new repository cloned (`--mirror`) from a
 * bundle the client streams. The bundle is spooled to the storage's temp
 * dir, the repository is staged there too, and the clone moves into place only
 * when complete, without an `origin` remote: a failed or abandoned upload
 * leaves nothing behind.
 *
 * @module
 */
import { internal, wrapError } from "../../server/errors.ts";
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest, requestBytes } from "../shared/git_stream.ts";
import { spoolBundle } from "./bundle.ts";
import { createSeededRepository } from "./create_seeded.ts";
import { cloneFrom, removeOrigin } from "./git_transfer.ts";

/** Builds the handler. */
export function createRepositoryFromBundle(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateRepositoryFromBundle"> {
  return clientStream(async (requests, ctx) => {
    const { first, rest } = await firstRequest(requests).catch((err) => {
      throw wrapError("first request failed", err);
    });
    await deps.locator.repoPath(first.repository, { allowMissing: true });
    const storagePath = deps.locator.storagePath(first.repository!.storage_name);
    try {
      await createSeededRepository(deps, first.repository!, async (target) => {
        const bundle = await spoolBundle(storagePath, requestBytes(rest, (r) => r.data, first));
        try {
          await cloneFrom(deps, { url: bundle.path, env: {}, config: [] }, target, {
            mirror: true,
            signal: ctx.signal,
            // A bundle without HEAD leaves the clone's own HEAD, which Gitaly
            // (git's built-in default there) points at master.
            config: [{ key: "init.defaultBranch", value: "master" }],
          });
        } catch (err) {
          ctx.signal.throwIfAborted();
          const code = (err as { code?: number }).code ?? 1;
          throw internal(`cloning bundle: waiting for git-clone: exit status ${code}`);
        } finally {
          await bundle.remove();
        }
        await removeOrigin(deps, target, ctx.signal);
      }, { skipInit: true, signal: ctx.signal, ctx });
    } catch (err) {
      throw wrapError("creating repository", err);
    }
    return {};
  });
}
