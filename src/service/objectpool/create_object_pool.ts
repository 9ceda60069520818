/**
 * `CreateObjectPool`: a new pool cloned (`git clone --bare --local`) from
 * its origin repository, staged and moved into place; the origin does not
 * join the pool.
 *
 * @module
 */
import { readObjectFormat } from "../../git/objectid.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { createSeededRepository } from "../repository/create_seeded.ts";
import { locatePool, poolRepository } from "./pool.ts";

/** Builds the handler. */
export function createObjectPool(
  deps: ServiceDeps,
): Rpc<"gitaly.ObjectPoolService", "CreateObjectPool"> {
  return unary(async (req, ctx) => {
    if (!req.origin) throw invalidArgument("no origin repository");
    const poolRepo = poolRepository(req.object_pool);
    await locatePool(deps, req.object_pool, false);
    try {
      const originPath = await deps.locator.repoPath(req.origin).catch((error) => {
        throw wrapError("getting source repository path", error);
      });
      const format = await readObjectFormat(originPath);
      await createSeededRepository(deps, poolRepo, async (staging) => {
        await deps.git.runOk({
          command: {
            name: "clone",
            flags: ["--quiet", "--bare", "--local"],
            postSepArgs: [originPath, staging],
          },
          env: { GIT_DEFAULT_HASH: format.format },
          signal: ctx.signal,
        });
        // git clone records the origin as a remote; pools keep no remote configuration.
        await deps.git.runOk({
          gitDir: staging,
          command: { name: "config", flags: ["--remove-section"], args: ["remote.origin"] },
          signal: ctx.signal,
        });
      }, { skipInit: true, signal: ctx.signal, ctx });
    } catch (error) {
      const wrapped = wrapError("creating object pool", error);
      // Rails expects FailedPrecondition for a pool that exists already.
      if (wrapped.code === Code.ALREADY_EXISTS) {
        throw new GrpcError(Code.FAILED_PRECONDITION, wrapped.message, { cause: wrapped });
      }
      throw wrapped;
    }
    return {};
  });
}
