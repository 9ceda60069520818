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
  type Step,
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

/** A repository being backed up, local or through a Gitaly client. */
export interface BackupSource {
  /** `sha1` or `sha256`. */
  objectFormat(): Promise<string>;
  /** The ref HEAD points to, when it points to one. */
  headReference(): Promise<string | undefined>;
  /** The refs as `git show-ref --head` lists them (`<oid> <name>` lines, HEAD first). */
  listRefs(): Promise<string>;
  /**
   * Writes a bundle: of every ref, or of what `patterns` (rev-list lines,
   * e.g. `--all` and `^<oid>`) select; {@link SkippedError} when empty.
   */
  bundle(patterns: string[] | undefined, write: (data: Uint8Array) => Promise<void>): Promise<void>;
  /** Writes the custom hooks tar (nothing when there are none). */
  customHooks(write: (data: Uint8Array) => Promise<void>): Promise<void>;
}

/** What a restore fills a recreated repository with. */
export interface RestoreSteps {
  /** Fetches the sink's bundle file (mirror refspec); with `updateHead`, HEAD from the bundle. */
  fetchBundle(sink: FilesystemSink, path: string, updateHead: boolean): Promise<void>;
  /** Installs the custom hooks from the sink's tar file. */
  setCustomHooks(sink: FilesystemSink, path: string): Promise<void>;
}

/** A repository being restored, local or through a Gitaly client. */
export interface RestoreTarget {
  /**
   * Replaces the repository by a new one (`format`, HEAD at `branch` or
   * the default) filled by `fill`; a `fill` that throws leaves no repository.
   */
  recreate(
    format: string,
    branch: string | undefined,
    fill: (steps: RestoreSteps) => Promise<void>,
  ): Promise<void>;
}

/** Backs `source` up as one new step (full, or an increment on the latest backup). */
export async function createBackup(
  locator: BackupLocator,
  source: BackupSource,
  req: { vanity: BackupRepo; backupId: string; incremental: boolean },
): Promise<void> {
  const backup = req.incremental
    ? await locator.beginIncremental(req.vanity, req.backupId)
    : locator.beginFull(req.vanity, req.backupId);
  backup.objectFormat = await source.objectFormat();
  backup.headReference = await source.headReference();
  const refs = await source.listRefs();
  const step = backup.steps[backup.steps.length - 1];
  const sink = locator.sink;
  try {
    await sink.writeText(step.refPath, refs);
  } catch (err) {
    throw wrapBackupError("write refs", err);
  }
  if (refs !== "") await writeBundle(sink, source, step);
  try {
    await sink.write(step.customHooksPath, (write) => source.customHooks(write), { lazy: true });
  } catch (err) {
    throw wrapBackupError("write custom hooks", err);
  }
  await locator.commit(backup);
}

async function writeBundle(sink: FilesystemSink, source: BackupSource, step: Step): Promise<void> {
  let patterns: string[] | undefined;
  if (step.previousRefPath) {
    let previous: string;
    try {
      previous = await sink.readText(step.previousRefPath);
    } catch (err) {
      throw wrapBackupError("write bundle", err);
    }
    // Everything but what the previous step's refs reach.
    patterns = ["--all"];
    for (const line of previous.split("\n").filter(Boolean)) {
      patterns.push(`^${line.slice(0, line.indexOf(" "))}`);
    }
  }
  try {
    await sink.write(step.bundlePath, (write) => source.bundle(patterns, write), { lazy: true });
  } catch (err) {
    if (err instanceof SkippedError) throw err;
    throw wrapBackupError("write bundle", err);
  }
}

/** The error a source's `bundle` throws when there is nothing to bundle. */
export function emptyBundle(): SkippedError {
  return new SkippedError("write bundle: repository skipped: no changes to bundle");
}

/**
 * Restores `target` from the backup `backupId` of `vanity` (empty: the
 * latest), every step in order. The backup is looked up before anything
 * is removed, so one that does not exist leaves the repository as it was.
 */
export async function restoreBackup(
  locator: BackupLocator,
  target: RestoreTarget,
  req: { vanity: BackupRepo; backupId: string; alwaysCreate: boolean },
): Promise<void> {
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
  const branch = backup.headReference?.startsWith("refs/heads/")
    ? backup.headReference.slice("refs/heads/".length)
    : undefined;
  await target.recreate(backup.objectFormat, branch, async (steps) => {
    for (const step of backup.steps) {
      let refs: string;
      try {
        refs = await sink.readText(step.refPath);
      } catch (err) {
        if (!(err instanceof DoesntExistError)) throw wrapBackupError("read refs", err);
        if (req.alwaysCreate) return;
        throw new SkippedError(`repository skipped: read refs: ${err.message}`);
      }
      if (refs.trim() !== "") {
        const context = `restore bundle: ${JSON.stringify(step.bundlePath)}`;
        if (!await sink.has(step.bundlePath)) throw new Error(`${context}: doesn't exist`);
        try {
          await steps.fetchBundle(sink, step.bundlePath, !branch);
        } catch (err) {
          throw wrapBackupError(context, err);
        }
      }
      if (await sink.has(step.customHooksPath)) {
        try {
          await steps.setCustomHooks(sink, step.customHooksPath);
        } catch (err) {
          throw wrapBackupError(
            `restore custom hooks, ${JSON.stringify(step.customHooksPath)}`,
            err,
          );
        }
      }
    }
  });
}

/** The repository at `repoPath` as a {@link BackupSource}. */
export function localSource(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
): BackupSource {
  const decoder = new TextDecoder();
  return {
    async objectFormat() {
      return (await deps.git.runText({
        gitDir: repoPath,
        command: { name: "rev-parse", flags: ["--show-object-format"] },
        signal,
      })).trim();
    },
    async headReference() {
      const head = await deps.git.run({
        gitDir: repoPath,
        command: { name: "symbolic-ref", flags: ["-q"], args: ["HEAD"] },
        signal,
      });
      return head.code === 0 ? decoder.decode(head.stdout).trim() : undefined;
    },
    async listRefs() {
      const listing = await deps.git.run({
        gitDir: repoPath,
        command: { name: "show-ref", flags: ["--head"] },
        signal,
      });
      // show-ref exits 1 when there are no refs.
      if (listing.code !== 0 && listing.code !== 1) {
        throw new Error(`list refs: show-ref: exit status ${listing.code}: ${listing.stderr}`);
      }
      return decoder.decode(listing.stdout);
    },
    async bundle(patterns, write) {
      const encoder = new TextEncoder();
      const stdin = patterns &&
        await new StdinPatterns(deps, repoPath, signal).lines(
          patterns.map((p) => encoder.encode(p)),
        );
      try {
        await sendBundle(
          deps,
          repoPath,
          { stdin, emptyCode: Code.FAILED_PRECONDITION, signal },
          write,
        );
      } catch (err) {
        if (err instanceof GrpcError && err.code === Code.FAILED_PRECONDITION) throw emptyBundle();
        throw err;
      }
    },
    async customHooks(write) {
      const hooks = customHooksTar(repoPath, signal);
      if (hooks) { for await (const chunk of hooks) await write(chunk); }
    },
  };
}

/**
 * `repository` of this server as a {@link RestoreTarget}: the new
 * repository is built in the storage's temp dir and moved into place when
 * complete; the old one is removed just before.
 */
export function localTarget(
  deps: ServiceDeps,
  repository: Repository,
  signal: AbortSignal,
): RestoreTarget {
  return {
    async recreate(format, branch, fill) {
      const repoPath = await deps.locator.repoPath(repository, { allowMissing: true });
      const storagePath = deps.locator.storagePath(repository.storage_name);
      if (await exists(repoPath)) await removeRepositoryDir(storagePath, repoPath);
      await createSeededRepository(deps, repository, async (staging) => {
        await deps.git.runOk({
          args: [
            "init",
            "--bare",
            "--quiet",
            `--object-format=${format}`,
            `--initial-branch=${branch ?? "main"}`,
            staging,
          ],
          signal,
        });
        await fill({
          fetchBundle: (sink, path, updateHead) =>
            fetchFromBundleFile(deps, staging, sink.path(path), updateHead, signal),
          async setCustomHooks(sink, path) {
            const file = await sink.open(path);
            await replaceCustomHooks(storagePath, staging, file.readable, signal);
          },
        });
      }, { skipInit: true, signal });
    },
  };
}
