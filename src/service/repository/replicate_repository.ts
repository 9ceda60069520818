/**
 * `ReplicateRepository`: makes the target repository a copy of the source
 * (on another storage of this server or on another server). A missing or
 * broken target is first created from the source's snapshot (atomically);
 * then config, info/attributes, references and objects (a mirror fetch
 * with pruning) and custom hooks are synchronised, and HEAD follows the
 * source's. Object pool membership is not replicated (no pools yet).
 *
 * @module
 */
import { join } from "node:path";
import type { ReplicateRepositoryRequest } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, notFound } from "../../server/errors.ts";
import { type CallContext, type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { exists, makeStorageTempDir } from "../shared/storage.ts";
import { createSeededRepository } from "./create_seeded.ts";
import { wrapError } from "../../server/errors.ts";
import { replaceCustomHooks } from "./custom_hooks.ts";
import { fetchFrom, remoteHead } from "./git_transfer.ts";
import { openSource, type ReplicationSource } from "./replication_source.ts";
import { extractTar } from "./tar_process.ts";

/** The error Gitaly gives when the source cannot be replicated from. */
export const INVALID_SOURCE = "invalid source repository";

/** Builds the handler. */
export function replicateRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "ReplicateRepository"> {
  return unary(async (req, ctx) => {
    await validate(deps, req);
    const source = await openSource(deps, req.source!, ctx.metadata);
    try {
      const targetPath = await deps.locator.repoPath(req.repository, { allowMissing: true });
      if (!(await isValidRepository(deps, req))) await recreate(deps, req, source, targetPath, ctx);
      if (!(await source.exists(ctx.signal).catch(internalError("checking for repo existence")))) {
        throw notFound(INVALID_SOURCE);
      }
      await synchronise(deps, req, source, targetPath, ctx).catch(
        internalError("replicating repository"),
      );
    } finally {
      source.close();
    }
    return {};
  });
}

async function validate(deps: ServiceDeps, req: ReplicateRepositoryRequest): Promise<void> {
  await deps.locator.repoPath(req.repository, { allowMissing: true });
  if (!req.source) throw invalidArgument("source repository cannot be empty");
  if (req.repository!.storage_name === req.source.storage_name) {
    throw invalidArgument("repository and source have the same storage");
  }
}

async function isValidRepository(
  deps: ServiceDeps,
  req: ReplicateRepositoryRequest,
): Promise<boolean> {
  try {
    await deps.locator.repoPath(req.repository);
    return true;
  } catch {
    return false;
  }
}

/** Moves a broken target aside, then creates it from the source's snapshot. */
async function recreate(
  deps: ServiceDeps,
  req: ReplicateRepositoryRequest,
  source: ReplicationSource,
  targetPath: string,
  ctx: CallContext,
): Promise<void> {
  const storagePath = deps.locator.storagePath(req.repository!.storage_name);
  if (await exists(targetPath)) {
    const trash = await makeStorageTempDir(storagePath, "invalid-");
    await Deno.rename(targetPath, join(trash, "repo"));
    deps.logger.warn("removed invalid repository", { repo_path: targetPath });
    await Deno.remove(trash, { recursive: true }).catch(() => {});
  }
  try {
    await createSeededRepository(deps, req.repository!, async (staging) => {
      await extractTar(staging, await snapshotOrInvalid(source, ctx.signal), {
        signal: ctx.signal,
      });
    }, { signal: ctx.signal, ctx });
  } catch (err) {
    if (err instanceof GrpcError && err.message === INVALID_SOURCE) throw err;
    throw wrapError("could not create repository from snapshot", err);
  }
}

/**
 * The snapshot stream, its first chunk read up front so that a source that
 * does not exist is reported as such rather than as a tar failure.
 */
async function snapshotOrInvalid(
  source: ReplicationSource,
  signal: AbortSignal,
): Promise<AsyncIterable<Uint8Array>> {
  const iterator = source.snapshot(signal)[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (err) {
    // No such repository, or not a valid one: the same answer either way.
    const code = (err as { code?: number }).code;
    if (code === Code.NOT_FOUND || code === Code.FAILED_PRECONDITION) {
      throw notFound(INVALID_SOURCE);
    }
    throw err;
  }
  return (async function* () {
    if (!first.done) yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  })();
}

/** Config, attributes, refs and objects, custom hooks: in Gitaly's order. */
async function synchronise(
  deps: ServiceDeps,
  req: ReplicateRepositoryRequest,
  source: ReplicationSource,
  targetPath: string,
  ctx: CallContext,
): Promise<void> {
  const storagePath = deps.locator.storagePath(req.repository!.storage_name);
  await writeFileAtomically(join(targetPath, "config"), source.config(ctx.signal), 0o644)
    .catch(prefixed("synchronizing gitconfig"));
  await writeFileAtomically(
    join(targetPath, "info", "attributes"),
    source.infoAttributes(ctx.signal),
    0o644,
  )
    .catch(prefixed("synchronizing gitattributes"));
  await syncReferences(deps, source, targetPath, ctx).catch(prefixed("synchronizing references"));
  await replaceCustomHooks(storagePath, targetPath, source.customHooks(ctx.signal), ctx.signal)
    .catch(prefixed("synchronizing custom hooks"));
}

/** A mirror fetch with pruning, then HEAD set to the source's. */
async function syncReferences(
  deps: ServiceDeps,
  source: ReplicationSource,
  targetPath: string,
  ctx: CallContext,
): Promise<void> {
  const remote = source.gitRemote({
    uploadPackConfig: ["uploadpack.allowAnySHA1InWant=true"],
    gitProtocol: "version=2",
  });
  await fetchFrom(deps, targetPath, remote, ["+refs/*:refs/*"], {
    prune: true,
    tags: false,
    atomic: true,
    config: [
      // Objects come from a trusted copy; skip the negotiation rounds and checks.
      { key: "fetch.negotiationAlgorithm", value: "skipping" },
      { key: "fetch.fsckObjects", value: "false" },
    ],
    signal: ctx.signal,
  }).catch(prefixed("fetch internal remote"));
  const head = await remoteHead(deps, remote, ctx.signal);
  if (!head) return;
  const current = await deps.git.run({
    gitDir: targetPath,
    args: ["symbolic-ref", "HEAD"],
    signal: ctx.signal,
  });
  if (new TextDecoder().decode(current.stdout).trim() !== head) {
    await deps.git.runOk({
      gitDir: targetPath,
      args: ["symbolic-ref", "HEAD", head],
      signal: ctx.signal,
    });
  }
}

/**
 * Writes `path` from `content` through `<path>.lock` and a rename, so
 * readers see the old or the new file, never a partial one.
 */
export async function writeFileAtomically(
  path: string,
  content: AsyncIterable<Uint8Array>,
  mode: number,
): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const lock = `${path}.lock`;
  const file = await Deno.open(lock, { createNew: true, write: true, mode });
  try {
    for await (const chunk of content) {
      for (let offset = 0; offset < chunk.byteLength;) {
        offset += await file.write(chunk.subarray(offset));
      }
    }
    await file.sync();
    file.close();
    await Deno.rename(lock, path);
  } catch (err) {
    try {
      file.close();
    } catch {
      // closed already
    }
    await Deno.remove(lock).catch(() => {});
    throw err;
  }
}

function prefixed(prefix: string): (err: unknown) => never {
  return (err) => {
    throw wrapError(prefix, err);
  };
}

function internalError(prefix: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof GrpcError && err.message === INVALID_SOURCE) throw err;
    throw wrapError(prefix, err);
  };
}
