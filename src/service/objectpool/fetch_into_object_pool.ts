/**
 * `FetchIntoObjectPool`: brings a pool up to date with its origin: refs
 * the origin deleted are pruned from `refs/remotes/origin/` in one
 * transaction, then every ref is fetched there atomically; objects that
 * became unreachable stay alive under `refs/dangling/`, so no member ever
 * loses an object it borrows.
 *
 * @module
 */
import { readObjectFormat } from "../../git/objectid.ts";
import { RefUpdater } from "../../git/updateref.ts";
import { Code, GrpcError, internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { locatePool, POOL_REF_NAMESPACE } from "./pool.ts";

const REFSPEC = `+refs/*:${POOL_REF_NAMESPACE}/*`;

/** Builds the handler. */
export function fetchIntoObjectPool(
  deps: ServiceDeps,
): Rpc<"gitaly.ObjectPoolService", "FetchIntoObjectPool"> {
  return unary(async (req, ctx) => {
    if (!req.origin) throw invalidArgument("origin is empty");
    if (!req.object_pool) throw invalidArgument("object pool is empty");
    if (req.origin.storage_name !== req.object_pool.repository?.storage_name) {
      throw invalidArgument("origin has different storage than object pool");
    }
    let pool;
    try {
      pool = await locatePool(deps, req.object_pool);
    } catch (error) {
      // Whatever is wrong with the pool, Gitaly calls it an invalid argument.
      throw new GrpcError(
        Code.INVALID_ARGUMENT,
        `object pool invalid: ${(error as Error).message}`,
      );
    }
    const originPath = await deps.locator.repoPath(req.origin);
    const signal = ctx.signal;
    // Prune first, on its own: --prune with --atomic cannot get past a D/F conflict.
    await prune(deps, pool.path, originPath, signal);
    const fetch = await deps.git.run({
      gitDir: pool.path,
      command: {
        name: "fetch",
        flags: [
          "--quiet",
          "--atomic",
          "--no-tags",
          "--no-write-fetch-head",
          "--no-show-forced-updates",
        ],
        args: [originPath, REFSPEC],
      },
      config: [{ key: "advice.fetchShowForcedUpdates", value: "false" }],
      signal,
    });
    if (fetch.code !== 0) {
      throw internal(
        `fetch into object pool: exit status ${fetch.code}, stderr: ${
          JSON.stringify(fetch.stderr)
        }`,
      );
    }
    await rescueDanglingObjects(deps, pool.path, signal).catch((error) => {
      throw wrapError("rescuing dangling objects", error);
    });
    return {};
  });
}

/** Deletes, in one transaction, the pool refs whose origin refs are gone. */
async function prune(deps: ServiceDeps, poolPath: string, originPath: string, signal: AbortSignal) {
  const dryRun = await deps.git.run({
    gitDir: poolPath,
    // No argument here comes from a request.
    args: ["remote", "prune", "--dry-run", "origin"],
    config: [
      { key: "remote.origin.url", value: originPath },
      { key: "remote.origin.fetch", value: REFSPEC },
    ],
    signal,
  });
  if (dryRun.code !== 0) throw internal(`pruning references: exit status ${dryRun.code}`);
  const zero = (await readObjectFormat(poolPath)).zeroOid;
  const deletions: [string, string][] = [];
  for (const line of new TextDecoder().decode(dryRun.stdout).split("\n")) {
    const prefix = " * [would prune] ";
    if (line.startsWith(prefix)) {
      deletions.push([`refs/remotes/${line.slice(prefix.length)}`, zero]);
    }
  }
  await applyUpdates(deps, poolPath, deletions, signal).catch((error) => {
    throw wrapError("pruning references", error);
  });
}

/** Applies `[reference, new id]` pairs in one transaction (the zero id deletes). */
async function applyUpdates(
  deps: ServiceDeps,
  repoPath: string,
  updates: [string, string][],
  signal: AbortSignal,
): Promise<void> {
  if (updates.length === 0) return;
  const updater = await RefUpdater.start(deps.git, repoPath, { signal });
  try {
    for (const [ref, oid] of updates) await updater.update(new TextEncoder().encode(ref), oid);
    await updater.commit();
  } finally {
    await updater.close();
  }
}

async function rescueDanglingObjects(deps: ServiceDeps, poolPath: string, signal: AbortSignal) {
  const fsck = await deps.git.run({
    gitDir: poolPath,
    command: { name: "fsck", flags: ["--connectivity-only", "--dangling"] },
    signal,
  });
  if (fsck.code !== 0) throw internal(`git fsck: exit status ${fsck.code}`);
  const lines = new TextDecoder().decode(fsck.stdout).split("\n");
  const creates = lines.map((line) => line.split(" "))
    .filter((fields) => fields.length === 3 && fields[0] === "dangling")
    .map(([, , oid]): [string, string] => [`refs/dangling/${oid}`, oid]);
  await applyUpdates(deps, poolPath, creates, signal);
}
