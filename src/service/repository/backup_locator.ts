/**
 * Where server-side backups live: a filesystem sink (a directory, written
 * file by file through a temp name and a rename, so a reader never sees a
 * half-written file) and Gitaly's layouts inside it:
 *
 * - `pointer`: `<repo>/<backup id>/NNN.bundle|.refs|.custom_hooks.tar` for
 *   the full backup (001) and each increment on top of it, with
 *   `<repo>/<backup id>/LATEST` naming the latest increment and
 *   `<repo>/LATEST` the latest backup id (`<repo>` is the relative path
 *   without `.git`);
 * - `legacy`: `<repo>.bundle`, `<repo>.refs`, `<repo>/custom_hooks.tar`,
 *   overwritten by every backup, no increments.
 *
 * Over either, every backup also writes a manifest,
 * `manifests/<storage>/<relative path>/<backup id>.toml`, listing its steps;
 * a lookup by id reads the manifest first and falls back to the layout.
 *
 * @module
 */
import { basename, dirname, extname, join, normalize } from "node:path";
import { parse as parseToml } from "smol-toml";
import { resolveInside } from "../../server/locator.ts";

/** A file the sink does not have (Gitaly's `ErrDoesntExist`). */
export class DoesntExistError extends Error {
  constructor(context: string) {
    super(`${context}doesn't exist`);
    this.name = "DoesntExistError";
  }
}

/** Nothing to back up or restore (Gitaly's `ErrSkipped`): answered FailedPrecondition. */
export class SkippedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkippedError";
  }
}

/** Prefixes an error's message with `context: `, keeping its class. */
export function wrapBackupError(context: string, err: unknown): Error {
  const message = `${context}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof DoesntExistError) {
    const wrapped = new DoesntExistError("");
    wrapped.message = message;
    return wrapped;
  }
  if (err instanceof SkippedError) return new SkippedError(message);
  return new Error(message, { cause: err });
}

/** One step of a backup: the full backup or one increment. */
export interface Step {
  bundlePath: string;
  refPath: string;
  previousRefPath?: string;
  customHooksPath: string;
}

/** A backup of one repository: its steps, oldest first. */
export interface Backup {
  /** The backup id (the manifest's name); empty for the legacy layout. */
  id: string;
  storageName: string;
  relativePath: string;
  steps: Step[];
  objectFormat: string;
  /** The ref HEAD points to, when known. */
  headReference?: string;
}

/** A repository as the backup paths name it (the vanity repository). */
export interface BackupRepo {
  storageName: string;
  relativePath: string;
}

/** A directory holding backups. */
export class FilesystemSink {
  constructor(readonly root: string) {}

  /** The absolute path of `relativePath` inside the sink. */
  path(relativePath: string): string {
    return resolveInside(this.root, relativePath);
  }

  /** Opens a file for reading; {@link DoesntExistError} when it is not there. */
  async open(relativePath: string): Promise<Deno.FsFile> {
    try {
      return await Deno.open(this.path(relativePath), { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new DoesntExistError("");
      throw wrapBackupError(`filesystem sink: get reader for ${JSON.stringify(relativePath)}`, err);
    }
  }

  /** The file's contents as text; {@link DoesntExistError} when it is not there. */
  async readText(relativePath: string): Promise<string> {
    const file = await this.open(relativePath);
    try {
      return await new Response(file.readable).text();
    } catch (err) {
      throw wrapBackupError(`filesystem sink: read ${JSON.stringify(relativePath)}`, err);
    }
  }

  /** Whether the sink has the file. */
  async has(relativePath: string): Promise<boolean> {
    try {
      return (await Deno.stat(this.path(relativePath))).isFile;
    } catch {
      return false;
    }
  }

  /**
   * Writes a file from what `fill` writes into the writer it gets, through a
   * temp file renamed into place when `fill` succeeds (removed otherwise).
   * With `lazy`, a `fill` that writes nothing leaves no file at all.
   */
  async write(
    relativePath: string,
    fill: (write: (data: Uint8Array) => Promise<void>) => Promise<void>,
    options: { lazy?: boolean } = {},
  ): Promise<void> {
    const target = this.path(relativePath);
    const temp = join(dirname(target), `.${basename(target)}.tmp-${crypto.randomUUID()}`);
    let file: Deno.FsFile | undefined;
    const context = `filesystem sink: get writer for ${JSON.stringify(relativePath)}`;
    const opened = async () => {
      if (file) return file;
      try {
        await Deno.mkdir(dirname(target), { recursive: true });
        file = await Deno.open(temp, { createNew: true, write: true });
      } catch (err) {
        throw wrapBackupError(context, err);
      }
      return file;
    };
    try {
      if (!options.lazy) await opened();
      await fill(async (data) => {
        const f = await opened();
        for (let at = 0; at < data.byteLength;) at += await f.write(data.subarray(at));
      });
      if (!file) return;
      await file.sync();
      file.close();
      file = undefined;
      await Deno.rename(temp, target);
    } catch (err) {
      file?.close();
      await Deno.remove(temp).catch(() => {});
      throw err;
    }
  }

  /** Writes `text` as the whole file. */
  async writeText(relativePath: string, text: string): Promise<void> {
    await this.write(relativePath, (write) => write(new TextEncoder().encode(text)));
  }
}

/** Finds and records backups in a sink: Gitaly's `legacy` or `pointer` layout plus manifests. */
export class BackupLocator {
  constructor(readonly sink: FilesystemSink, readonly layout: "legacy" | "pointer") {}

  /** The steps of a new full backup. */
  beginFull(repo: BackupRepo, backupId: string): Backup {
    const base = repoBase(repo);
    if (this.layout === "legacy") return this.#legacy(repo);
    return {
      id: backupId,
      ...names(repo),
      objectFormat: "sha1",
      steps: [stepAt(join(base, backupId), 1)],
    };
  }

  /**
   * The latest backup plus a new increment on top of it; a full backup
   * under `backupId` when there is none yet.
   */
  async beginIncremental(repo: BackupRepo, backupId: string): Promise<Backup> {
    if (this.layout === "legacy") {
      throw new Error("legacy layout: begin incremental: not supported");
    }
    const base = repoBase(repo);
    let latestId: string;
    try {
      latestId = await this.#latestId(base);
    } catch (err) {
      if (err instanceof DoesntExistError) return this.beginFull(repo, backupId);
      throw wrapBackupError("pointer locator: begin incremental", err);
    }
    const backup = await this.#pointerFind(repo, latestId);
    const previous = backup.steps[backup.steps.length - 1];
    if (!previous) throw new Error("pointer locator: begin incremental: no full backup");
    const name = basename(previous.bundlePath);
    const n = Number.parseInt(name.slice(0, name.length - extname(name).length), 10);
    if (!Number.isFinite(n)) {
      throw new Error(
        `pointer locator: begin incremental: determine increment ID: invalid increment ${
          JSON.stringify(name)
        }`,
      );
    }
    backup.id = backupId;
    backup.steps.push({
      ...stepAt(dirname(previous.bundlePath), n + 1),
      previousRefPath: previous.refPath,
    });
    return backup;
  }

  /** Records `backup` (its last step new): the layout's pointers, then its manifest. */
  async commit(backup: Backup): Promise<void> {
    if (this.layout === "pointer") {
      const step = backup.steps[backup.steps.length - 1];
      const backupPath = dirname(step.bundlePath);
      const name = basename(step.bundlePath);
      try {
        await this.sink.writeText(
          join(backupPath, "LATEST"),
          name.slice(0, name.length - extname(name).length),
        );
        await this.sink.writeText(join(dirname(backupPath), "LATEST"), basename(backupPath));
      } catch (err) {
        throw wrapBackupError("pointer locator: commit: write latest", err);
      }
    }
    try {
      await this.sink.writeText(manifestPath(backup, backup.id), manifestToml(backup));
    } catch (err) {
      throw wrapBackupError("manifest: commit: write manifest", err);
    }
  }

  /** The backup `backupId` of `repo`, from its manifest or the layout. */
  async find(repo: BackupRepo, backupId: string): Promise<Backup> {
    const manifest = await this.#readManifest(repo, backupId);
    if (manifest) return manifest;
    if (this.layout === "legacy") throw new Error("legacy layout: find: not supported");
    try {
      return await this.#pointerFind(repo, backupId);
    } catch (err) {
      throw wrapBackupError("pointer locator", err);
    }
  }

  /** The latest backup of `repo`. */
  async findLatest(repo: BackupRepo): Promise<Backup> {
    const manifest = await this.#readManifest(repo, "+latest");
    if (manifest) return manifest;
    if (this.layout === "pointer") {
      let latestId: string | undefined;
      try {
        latestId = await this.#latestId(repoBase(repo));
      } catch (err) {
        if (!(err instanceof DoesntExistError)) {
          throw wrapBackupError("pointer locator: find latest", err);
        }
      }
      if (latestId !== undefined) {
        try {
          return await this.#pointerFind(repo, latestId);
        } catch (err) {
          throw wrapBackupError("pointer locator: find latest", err);
        }
      }
    }
    return this.#legacy(repo);
  }

  #legacy(repo: BackupRepo): Backup {
    const base = repoBase(repo);
    return {
      id: "",
      ...names(repo),
      objectFormat: "sha1",
      steps: [{
        bundlePath: `${base}.bundle`,
        refPath: `${base}.refs`,
        customHooksPath: join(base, "custom_hooks.tar"),
      }],
    };
  }

  async #pointerFind(repo: BackupRepo, backupId: string): Promise<Backup> {
    const backupPath = join(repoBase(repo), backupId);
    let latest: string;
    try {
      latest = await this.#latestId(backupPath);
    } catch (err) {
      throw wrapBackupError("find", err);
    }
    const max = /^[0-9]+$/.test(latest) ? Number.parseInt(latest, 10) : NaN;
    if (!Number.isFinite(max)) {
      throw new Error(`find: determine increment ID: invalid increment ${JSON.stringify(latest)}`);
    }
    const steps: Step[] = [];
    for (let i = 1; i <= max; i++) {
      const step = stepAt(backupPath, i);
      if (i > 1) step.previousRefPath = join(backupPath, `${pad(i - 1)}.refs`);
      steps.push(step);
    }
    return { id: backupId, ...names(repo), objectFormat: "sha1", steps };
  }

  async #latestId(path: string): Promise<string> {
    try {
      return (await this.sink.readText(join(path, "LATEST"))).replace(/\r?\n$/, "");
    } catch (err) {
      throw wrapBackupError("find latest ID", err);
    }
  }

  async #readManifest(repo: BackupRepo, backupId: string): Promise<Backup | undefined> {
    const path = manifestPath(names(repo), backupId);
    let text: string;
    try {
      text = await this.sink.readText(path);
    } catch (err) {
      if (err instanceof DoesntExistError) return undefined;
      throw wrapBackupError("manifest: read manifest", err);
    }
    return parseManifest(text, repo, backupId);
  }
}

function names(repo: BackupRepo): { storageName: string; relativePath: string } {
  return { storageName: repo.storageName, relativePath: repo.relativePath };
}

/** The relative path without `.git`, cleaned as Go's filepath.Join does. */
function repoBase(repo: BackupRepo): string {
  return normalize(repo.relativePath.replace(/\.git$/, "")).replace(/\/+$/, "");
}

function pad(n: number): string {
  return String(n).padStart(3, "0");
}

function stepAt(dir: string, n: number): Step {
  return {
    bundlePath: join(dir, `${pad(n)}.bundle`),
    refPath: join(dir, `${pad(n)}.refs`),
    customHooksPath: join(dir, `${pad(n)}.custom_hooks.tar`),
  };
}

function manifestPath(repo: { storageName: string; relativePath: string }, id: string): string {
  return join("manifests", repo.storageName, repo.relativePath, `${id}.toml`);
}

/** A TOML string: literal (`'…'`) when it can be, as go-toml writes it, else basic. */
function tomlString(value: string): string {
  // deno-lint-ignore no-control-regex
  if (!/['\x00-\x1f\x7f]/.test(value)) return `'${value}'`;
  return JSON.stringify(value);
}

/** The manifest as Gitaly writes it (go-toml's encoding of its Backup struct). */
export function manifestToml(backup: Backup): string {
  const lines = [`object_format = ${tomlString(backup.objectFormat)}`];
  if (backup.headReference) lines.push(`head_reference = ${tomlString(backup.headReference)}`);
  for (const step of backup.steps) {
    lines.push("", "[[steps]]");
    if (step.bundlePath) lines.push(`bundle_path = ${tomlString(step.bundlePath)}`);
    if (step.refPath) lines.push(`ref_path = ${tomlString(step.refPath)}`);
    if (step.previousRefPath) {
      lines.push(`previous_ref_path = ${tomlString(step.previousRefPath)}`);
    }
    if (step.customHooksPath) lines.push(`custom_hooks_path = ${tomlString(step.customHooksPath)}`);
  }
  return lines.join("\n") + "\n";
}

function parseManifest(text: string, repo: BackupRepo, id: string): Backup {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw wrapBackupError("manifest: read manifest", err);
  }
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const steps = Array.isArray(doc.steps) ? doc.steps as Record<string, unknown>[] : [];
  return {
    id,
    ...names(repo),
    objectFormat: str(doc.object_format),
    headReference: str(doc.head_reference) || undefined,
    steps: steps.map((s) => ({
      bundlePath: str(s.bundle_path),
      refPath: str(s.ref_path),
      previousRefPath: str(s.previous_ref_path) || undefined,
      customHooksPath: str(s.custom_hooks_path),
    })),
  };
}
