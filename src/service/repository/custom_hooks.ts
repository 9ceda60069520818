/**
 * A repository's custom hooks (`custom_hooks/`) as a tar archive:
 * {@link sendCustomHooks} streams it for `GetCustomHooks` and
 * `BackupCustomHooks` (nothing at all when the repository has none), and
 * {@link replaceCustomHooks} installs one atomically (replication uses it,
 * and {@link receiveCustomHooks} for `SetCustomHooks` and
 * `RestoreCustomHooks`).
 *
 * @module
 */
import { join } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import type { Repository } from "../../proto/types.ts";
import { failedPrecondition, internal, wrapError } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest, requestBytes } from "../shared/git_stream.ts";
import { exists, makeStorageTempDir } from "../shared/storage.ts";
import { directoryVote } from "../shared/repository_vote.ts";
import {
  transactionFromContext,
  transactionManagerOf,
  type VotingContext,
} from "../shared/transaction.ts";
import { createTar, extractTar, TarError } from "./tar_process.ts";

/** The directory holding a repository's custom hooks, and its name inside the archive. */
export const CUSTOM_HOOKS_DIR = "custom_hooks";

/**
 * Streams the custom hooks of `repository` as tar chunks to `send`;
 * sends nothing when the repository has none.
 */
export async function sendCustomHooks(
  deps: ServiceDeps,
  repository: Repository | null | undefined,
  signal: AbortSignal,
  send: (data: Uint8Array) => Promise<void>,
): Promise<void> {
  const repoPath = await deps.locator.repoPath(repository);
  const archive = customHooksTar(repoPath, signal);
  if (!archive) return;
  for await (const data of chunkStream(archive, { signal })) await send(data);
}

/** The custom hooks of the repository at `repoPath` as a tar stream; undefined when there are none. */
export function customHooksTar(
  repoPath: string,
  signal?: AbortSignal,
): ReadableStream<Uint8Array> | undefined {
  try {
    Deno.lstatSync(join(repoPath, CUSTOM_HOOKS_DIR));
  } catch {
    return undefined;
  }
  return createTar(repoPath, [CUSTOM_HOOKS_DIR], signal);
}

/** A request of `SetCustomHooks` or `RestoreCustomHooks`. */
interface HooksRequest {
  repository?: Repository | null;
  data: Uint8Array;
}

/**
 * Installs the custom hooks a client streams as a tar (the first message
 * names the repository and may carry data): atomically, as
 * {@link replaceCustomHooks} does; an empty stream leaves no hooks. Errors
 * are worded as Gitaly's.
 */
export async function receiveCustomHooks(
  deps: ServiceDeps,
  requests: AsyncIterable<HooksRequest>,
  ctx: VotingContext,
): Promise<void> {
  const signal = ctx.signal;
  const { first, rest } = await firstRequest(requests).catch((err) => {
    throw wrapError("getting first request", err);
  });
  const repoPath = await deps.locator.repoPath(first.repository);
  const storagePath = deps.locator.storagePath(first.repository!.storage_name);
  const archive = requestBytes(rest, (r) => r.data, first);
  try {
    await replaceCustomHooks(storagePath, repoPath, archive, signal, customHooksVote(deps, ctx));
  } catch (err) {
    if (!(err instanceof TarError)) throw err;
    throw internal(
      `setting custom hooks: extracting hooks: waiting for tar command completion: exit status ${err.code}`,
    );
  }
}

/**
 * Replaces the repository's `custom_hooks/` by the one in `archive` (an
 * empty archive leaves an empty directory), swapping directories by rename
 * under a `custom_hooks.lock` so readers never see a half-written set.
 * `vote` is told about the new directory before the swap (`prepared`) and
 * after it (`committed`); a refusal before the swap changes nothing.
 */
export async function replaceCustomHooks(
  storagePath: string,
  repoPath: string,
  archive: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
  vote?: (phase: "prepared" | "committed", hooksDir: string) => Promise<void>,
): Promise<void> {
  const lock = join(repoPath, `${CUSTOM_HOOKS_DIR}.lock`);
  try {
    (await Deno.open(lock, { createNew: true, write: true })).close();
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw failedPrecondition("custom hooks are locked");
    }
    throw err;
  }
  const staging = await makeStorageTempDir(storagePath, "hooks-");
  try {
    await extractHooks(staging, archive, signal);
    const fresh = join(staging, CUSTOM_HOOKS_DIR);
    await Deno.mkdir(fresh, { recursive: true });
    await vote?.("prepared", fresh);
    const current = join(repoPath, CUSTOM_HOOKS_DIR);
    if (await exists(current)) await Deno.rename(current, join(staging, "previous_hooks"));
    await Deno.rename(fresh, current);
    await vote?.("committed", current);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await Deno.remove(lock).catch(() => {});
  }
}

/**
 * Votes on the custom hooks directory as Gitaly does (`casting prepared
 * vote: vote failed: …`), when the call takes part in a transaction.
 */
function customHooksVote(
  deps: ServiceDeps,
  ctx: VotingContext,
): ((phase: "prepared" | "committed", dir: string) => Promise<void>) | undefined {
  const tx = transactionFromContext(ctx);
  if (!tx) return undefined;
  return async (phase, dir) => {
    const vote = await directoryVote(dir);
    await transactionManagerOf(deps).vote(tx, vote, phase, ctx.signal).catch((error) => {
      throw internal(
        `setting custom hooks: casting ${phase} vote: vote failed: ${(error as Error).message}`,
      );
    });
  };
}

const NOT_IN_ARCHIVE = new RegExp(`^(\\S*/)?tar: ${CUSTOM_HOOKS_DIR}: Not found in archive`);

/** Extracts just `custom_hooks/` from `archive`; an empty archive means "no hooks". */
async function extractHooks(
  dir: string,
  archive: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<void> {
  const iterator = archive[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.byteLength === 0) first = await iterator.next();
  if (first.done) return; // tar refuses empty input
  const head = first.value;
  async function* whole() {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  }
  try {
    await extractTar(dir, whole(), { args: [CUSTOM_HOOKS_DIR], signal });
  } catch (err) {
    // An archive without custom_hooks/ is a valid "no hooks" answer.
    // (tar names itself as it was invoked: `tar:` or `/usr/bin/tar:`.)
    if (err instanceof TarError && NOT_IN_ARCHIVE.test(err.stderr)) return;
    throw err;
  }
}
