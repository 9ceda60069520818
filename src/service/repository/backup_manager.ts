/**
 * Server-side backups as Gitaly's backup manager makes and restores them:
 * a backup writes the repository's refs (`git show-ref --head` format), a
 * bundle of them (for an increment: only what is new since the refs of the
 * previous step) and the custom hooks tar, then records the step; a restore
 * recreates the repository from every step in order.
 *
 * @module
 */
import type { Repository } from "../../proto/types.ts";
import { Code, GrpcError, internal, invalidArgument } from "../../server/errors.ts";
import { resolveInside } from "../../server/locator.ts";
import type { ServiceDeps } from "../deps.ts";
import { exists, removeRepositoryDir } from "../shared/storage.ts";
import {
  type Backup,
  BackupLocator,
  type BackupRepo,
  DoesntExistError,
  FilesystemSink,
  SkippedError,
  wrapBackupError,
} from "./backup_locator.ts";
import { sendBundle, StdinPatterns } from "./bundle.ts";
import { createSeededRepository } from "./create_seeded.ts";
import { customHooksTar, replaceCustomHooks } from "./custom_hooks.ts";
import { fetchFromBundleFile } from "./fetch_bundle.ts";

/** The configured locator, or Gitaly's FailedPrecondition for `rpc` ("backup repository"). */
export function configuredLocator(deps: ServiceDeps, rpc: string): BackupLocator {
  const backup = deps.config.backup;
  if (!backup) {
    throw new GrpcError(
      Code.FAILED_PRECONDITION,
      `${rpc}: server-side backups are not configured`,
    );
  }
  return new BackupLocator(new FilesystemSink(backup.sinkPath), backup.layout);
}

/**
 * Validates a vanity repository as Gitaly does (its storage need not
 * exist here); returns it as backup paths name it.
 */
export function vanityRepo(repo: Repository | null | undefined): BackupRepo {
  if (!repo || (!repo.storage_name && !repo.relative_path)) {
    throw invalidArgument("repository not set");
  }
  if (!repo.storage_name) throw invalidArgument("storage name not set");
  if (!repo.relative_path) throw invalidArgument("repository path not set");
  resolveInside("/vanity", repo.relative_path);
  return { storageName: repo.storage_name, relativePath: repo.relative_path };
}

/** Maps a manager failure to Gitaly's answer: skipped is FailedPrecondition with a detail. */
export function managerError(rpc: string, detailType: string, err: unknown): GrpcError {
  if (err instanceof GrpcError && err.code !== Code.INTERNAL) {
    return new GrpcError(err.code, `${rpc}: manager: ${err.message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SkippedError) {
    return new GrpcError(Code.FAILED_PRECONDITION, `${rpc}: manager: ${message}`)
      .withDetail(detailType, {});
  }
  return internal(`${rpc}: manager: ${message}`);
}

/** What {@link createBackup} backs up. */
export interface CreateRequest {
  repoPath: string;
  vanity: BackupRepo;
  backupId: string;
  incremental: boolean;
  signal: AbortSignal;
}

/** Backs up the repository at `repoPath` as one new step (full or increment). */
export async function createBackup(
  deps: ServiceDeps,
  locator: BackupLocator,
  req: CreateRequest,
): Promise<void> {
  const { repoPath, signal } = req;
  const backup = req.incremental
    ? await locator.beginIncremental(req.vanity, req.backupId)
    : locator.beginFull(req.vanity, req.backupId);
  backup.objectFormat = (await deps.git.runText({
    gitDir: repoPath,
    command: { name: "rev-parse", flags: ["--show-object-format"] },
    signal,
  })).trim();
  const head = await deps.git.run({
    gitDir: repoPath,
    command: { name: "symbolic-ref", flags: ["-q"], args: ["HEAD"] },
    signal,
  });
  backup.headReference = head.code === 0 ? new TextDecoder().decode(head.stdout).trim() : undefined;
  const listing = await deps.git.run({
    gitDir: repoPath,
    command: { name: "show-ref", flags: ["--head"] },
    signal,
  });
  if (listing.code !== 0 && listing.code !== 1) {
    throw new Error(`list refs: show-ref: exit status ${listing.code}: ${listing.stderr}`);
  }
  const refs = new TextDecoder().decode(listing.stdout);
  const step = backup.steps[backup.steps.length - 1];
  const sink = locator.sink;
  try {
    await sink.writeText(step.refPath, refs);
  } catch (err) {
    throw wrapBackupError("write refs", err);
  }
  if (refs !== "") await writeBundle(deps, sink, repoPath, step, signal);
  const hooks = customHooksTar(repoPath, signal);
  if (hooks) {
    try {
      await sink.write(step.customHooksPath, async (write) => {
        for await (const chunk of hooks) await write(chunk);
      }, { lazy: true });
    } catch (err) {
      throw wrapBackupError("write custom hooks", err);
    }
  }
  await locator.commit(backup);
}

async function writeBundle(
  deps: ServiceDeps,
  sink: FilesystemSink,
  repoPath: string,
  step: Backup["steps"][number],
  signal: AbortSignal,
): Promise<void> {
  let stdin: Uint8Array | undefined;
  if (step.previousRefPath) {
    let previous: string;
    try {
      previous = await sink.readText(step.previousRefPath);
    } catch (err) {
      throw wrapBackupError("write bundle", err);
    }
    const patterns = [new TextEncoder().encode("--all")];
    for (const line of previous.split("\n").filter(Boolean)) {
      patterns.push(new TextEncoder().encode(`^${line.slice(0, line.indexOf(" "))}`));
    }
    stdin = await new StdinPatterns(deps, repoPath, signal).lines(patterns);
  }
  try {
    await sink.write(step.bundlePath, async (write) => {
      await sendBundle(
        deps,
        repoPath,
        { stdin, emptyCode: Code.FAILED_PRECONDITION, signal },
        write,
      );
    }, { lazy: true });
  } catch (err) {
    if (err instanceof GrpcError && err.code === Code.FAILED_PRECONDITION) {
      throw new SkippedError("write bundle: repository skipped: no changes to bundle");
    }
    throw wrapBackupError("write bundle", err);
  }
}

/** What {@link restoreBackup} restores. */
export interface RestoreRequest {
  repository: Repository;
  vanity: BackupRepo;
  /** Empty: the latest backup. */
  backupId: string;
  alwaysCreate: boolean;
  signal: AbortSignal;
}

/**
 * Replaces the repository by the one the backup describes, built in the
 * storage's temp dir and moved into place when complete. The backup is
 * looked up before anything is removed, so a backup that does not exist
 * leaves the repository as it was.
 */
export async function restoreBackup(
  deps: ServiceDeps,
  locator: BackupLocator,
  req: RestoreRequest,
): Promise<void> {
  const { signal } = req;
  let backup: Backup;
  try {
    backup = req.backupId
      ? await locator.find(req.vanity, req.backupId)
      : await locator.findLatest(req.vanity);
  } catch (err) {
    if (err instanceof DoesntExistError) {
      throw new SkippedError(`repository skipped: ${err.message}`);
    }
    throw err;
  }
  if (backup.objectFormat !== "sha1" && backup.objectFormat !== "sha256") {
    throw new Error(`unknown object format: ${JSON.stringify(backup.objectFormat)}`);
  }
  const sink = locator.sink;
  const repoPath = await deps.locator.repoPath(req.repository, { allowMissing: true });
  const storagePath = deps.locator.storagePath(req.repository.storage_name);
  if (await exists(repoPath)) await removeRepositoryDir(storagePath, repoPath);
  const branch = backup.headReference?.startsWith("refs/heads/")
    ? backup.headReference.slice("refs/heads/".length)
    : undefined;
  let skipped: SkippedError | undefined;
  await createSeededRepository(deps, req.repository, async (staging) => {
    await deps.git.runOk({
      args: [
        "init",
        "--bare",
        "--quiet",
        `--object-format=${backup.objectFormat}`,
        `--initial-branch=${branch ?? "main"}`,
        staging,
      ],
      signal,
    });
    for (const step of backup.steps) {
      let refs: string;
      try {
        refs = await sink.readText(step.refPath);
      } catch (err) {
        if (!(err instanceof DoesntExistError)) throw wrapBackupError("read refs", err);
        if (req.alwaysCreate) return;
        skipped = new SkippedError(`repository skipped: read refs: ${err.message}`);
        throw skipped;
      }
      if (refs.trim() !== "") {
        const context = `restore bundle: ${JSON.stringify(step.bundlePath)}`;
        if (!await sink.has(step.bundlePath)) throw new Error(`${context}: doesn't exist`);
        try {
          await fetchFromBundleFile(deps, staging, sink.path(step.bundlePath), !branch, signal);
        } catch (err) {
          throw wrapBackupError(context, err);
        }
      }
      if (await sink.has(step.customHooksPath)) {
        const file = await sink.open(step.customHooksPath);
        try {
          await replaceCustomHooks(storagePath, staging, file.readable, signal);
        } catch (err) {
          throw wrapBackupError(
            `restore custom hooks, ${JSON.stringify(step.customHooksPath)}`,
            err,
          );
        }
      }
    }
  }, { skipInit: true, signal }).catch((err) => {
    throw skipped ?? err;
  });
}
