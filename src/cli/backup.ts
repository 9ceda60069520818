/**
 * `backup create|restore`: backups of many repositories into a local
 * directory, as gitaly-backup makes them, in the same layouts as the
 * server-side sink (so either restores the other's backups).
 *
 *     deno-gitaly backup create --server unix:/run/gitaly.socket --path /backups --id 2024
 *     deno-gitaly backup restore --server unix:/run/gitaly.socket --path /backups
 *
 * Repositories come as JSON lines on stdin, as gitaly-backup reads them:
 * `{"storage_name":"default","relative_path":"a.git","address":"…","token":"…",
 * "always_create":false}` (`address` and `token` default to `--server` and
 * `--token`). They are handled `--parallel` at a time, with a progress
 * line on a terminal and a summary at the end; exit 1 when any failed.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { dialContext } from "../client/connect.ts";
import { describeError, isCallError } from "../client/errors.ts";
import { refService, repositoryService } from "../client/services.ts";
import {
  BackupLocator,
  type BackupRepo,
  FilesystemSink,
  SkippedError,
} from "../service/repository/backup_locator.ts";
import {
  type BackupSource,
  createBackup,
  emptyBundle,
  restoreBackup,
  type RestoreTarget,
} from "../service/repository/backup_manager.ts";
import { Code } from "../client/mod.ts";
import { InputError, parseFlags, UsageError } from "./usage.ts";

/** The usage text of `backup`. */
export const BACKUP_USAGE =
  `Usage: deno-gitaly backup create|restore --path DIR [options] < repositories.jsonl

Options:
  --server ADDR        Gitaly address for lines without "address" (default: $GITALY_ADDRESS)
  --token SECRET       token for lines without "token" (default: $GITALY_TOKEN)
  --path DIR           the backup directory
  --layout NAME        pointer (default) or legacy
  --id ID              backup id (create: default a timestamp; restore: default the latest)
  --incremental        create: only what is new since the latest backup
  --parallel N         repositories at a time (default 4)
`;

const FLAGS = {
  server: { type: "string" },
  token: { type: "string" },
  path: { type: "string" },
  layout: { type: "string" },
  id: { type: "string" },
  incremental: { type: "boolean" },
  parallel: { type: "string" },
} as const;

/** One line of stdin. */
interface Job {
  storage_name: string;
  relative_path: string;
  address: string;
  token: string;
  always_create: boolean;
}

type Outcome = "ok" | "skipped" | "failed";

/** Runs `backup create` or `backup restore`; resolves to the exit code. */
export async function backupCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== "create" && action !== "restore") {
    throw new UsageError(`backup: expected create or restore\n\n${BACKUP_USAGE}`);
  }
  const { values, positionals } = parseFlags(rest, FLAGS, false);
  if (positionals.length) throw new UsageError("backup takes no arguments");
  if (!values.path) throw new UsageError("backup: --path is required");
  const layout = values.layout ?? "pointer";
  if (layout !== "pointer" && layout !== "legacy") {
    throw new InputError(`backup: unknown layout: ${JSON.stringify(layout)}`);
  }
  const parallel = Number(values.parallel ?? "4");
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new InputError(`backup: --parallel must be a positive integer`);
  }
  const jobs = parseJobs(
    await new Response(Deno.stdin.readable).text(),
    values.server ?? Deno.env.get("GITALY_ADDRESS") ?? "",
    values.token ?? Deno.env.get("GITALY_TOKEN") ?? "",
  );
  const locator = new BackupLocator(new FilesystemSink(values.path), layout);
  const id = values.id ?? timestampId(new Date());
  const conns = new Map<string, Promise<grpc.Client>>();
  const connect = (job: Job) => {
    const key = `${job.address}\n${job.token}`;
    let conn = conns.get(key);
    if (!conn) {
      conn = dialContext(job.address, { token: job.token || undefined });
      conns.set(key, conn);
    }
    return conn;
  };
  const counts: Record<Outcome, number> = { ok: 0, skipped: 0, failed: 0 };
  const terminal = Deno.stderr.isTerminal();
  const progress = () => {
    if (!terminal) return;
    const done = counts.ok + counts.skipped + counts.failed;
    const line =
      `\r${action}: ${done}/${jobs.length} (${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed)`;
    Deno.stderr.writeSync(new TextEncoder().encode(line));
  };
  const report = (job: Job, outcome: Outcome, why?: string) => {
    counts[outcome]++;
    if (outcome !== "ok") {
      if (terminal) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
      console.error(`${outcome}: ${job.storage_name}/${job.relative_path}: ${why}`);
    }
    progress();
  };
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      try {
        const conn = await connect(job);
        const repo = { storage_name: job.storage_name, relative_path: job.relative_path };
        const vanity = { storageName: job.storage_name, relativePath: job.relative_path };
        const outcome = action === "create"
          ? await createOne(conn, locator, repo, vanity, id, !!values.incremental)
          : await restoreOne(conn, locator, repo, vanity, values.id ?? "", job.always_create);
        report(job, outcome === true ? "ok" : "skipped", outcome === true ? "" : outcome);
      } catch (err) {
        if (err instanceof SkippedError) report(job, "skipped", err.message);
        else report(job, "failed", isCallError(err) ? describeError(err) : String(err));
      }
    }
  };
  progress();
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  for (const conn of conns.values()) await conn.then((c) => c.close(), () => {});
  if (terminal) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  console.error(
    `backup ${action}: ${jobs.length} repositories: ${counts.ok} ok, ${counts.skipped} skipped, ${counts.failed} failed`,
  );
  return counts.failed > 0 ? 1 : 0;
}

function parseJobs(text: string, address: string, token: string): Job[] {
  return text.split("\n").map((line, i) => [line.trim(), i + 1] as const).filter(([l]) => l)
    .map(([line, n]) => {
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new InputError(`backup: stdin line ${n}: ${(err as Error).message}`);
      }
      const str = (key: string, fallback = "") =>
        typeof value[key] === "string" && value[key] !== "" ? value[key] as string : fallback;
      const job = {
        storage_name: str("storage_name"),
        relative_path: str("relative_path"),
        address: str("address", address),
        token: str("token", token),
        always_create: value.always_create === true,
      };
      if (!job.storage_name || !job.relative_path) {
        throw new InputError(
          `backup: stdin line ${n}: storage_name and relative_path are required`,
        );
      }
      if (!job.address) throw new InputError(`backup: stdin line ${n}: no address (--server)`);
      return job;
    });
}

/** Gitaly-backup's default backup id: the time as YYYYMMDDhhmmss (UTC). */
function timestampId(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

type Repo = { storage_name: string; relative_path: string };

/** Backs one repository up; `true`, or why it was skipped. */
async function createOne(
  conn: grpc.Client,
  locator: BackupLocator,
  repository: Repo,
  vanity: BackupRepo,
  id: string,
  incremental: boolean,
): Promise<true | string> {
  const repos = repositoryService(conn);
  if (!(await repos.repositoryExists({ repository })).exists) return "repository not found";
  await createBackup(locator, remoteSource(conn, repository), {
    vanity,
    backupId: id,
    incremental,
  });
  return true;
}

/** Restores one repository; `true`, or why it was skipped. */
async function restoreOne(
  conn: grpc.Client,
  locator: BackupLocator,
  repository: Repo,
  vanity: BackupRepo,
  id: string,
  alwaysCreate: boolean,
): Promise<true | string> {
  await restoreBackup(locator, remoteTarget(conn, repository), {
    vanity,
    backupId: id,
    alwaysCreate,
  });
  return true;
}

/** A repository of a Gitaly server as a {@link BackupSource}, as gitaly-backup reads it. */
function remoteSource(conn: grpc.Client, repository: Repo): BackupSource {
  const repos = repositoryService(conn);
  return {
    async objectFormat() {
      const { format } = await repos.objectFormat({ repository });
      return String(format) === "2" || String(format) === "OBJECT_FORMAT_SHA256"
        ? "sha256"
        : "sha1";
    },
    async headReference() {
      const head = await refService(conn).findDefaultBranchName({ repository, head_only: true });
      return dec(head.name) || undefined;
    },
    async listRefs() {
      const lines: string[] = [];
      const refs = refService(conn).listRefs({ repository, patterns: [enc("refs/")], head: true });
      for await (const r of refs) {
        for (const ref of r.references) lines.push(`${ref.target} ${dec(ref.name)}`);
      }
      const head = lines.findIndex((l) => l.endsWith(" HEAD"));
      if (head > 0) lines.unshift(...lines.splice(head, 1));
      return lines.map((l) => `${l}\n`).join("");
    },
    async bundle(patterns, write) {
      try {
        const call = repos.createBundleFromRefList();
        const writing = call.writeAll([{ repository, patterns: (patterns ?? ["--all"]).map(enc) }]);
        for await (const r of call) await write(r.data);
        await writing;
      } catch (err) {
        if (isCallError(err) && err.code === Code.FAILED_PRECONDITION) throw emptyBundle();
        throw err;
      }
    },
    async customHooks(write) {
      for await (const r of repos.backupCustomHooks({ repository })) await write(r.data);
    },
  };
}

/** A repository of a Gitaly server as a {@link RestoreTarget}. */
function remoteTarget(conn: grpc.Client, repository: Repo): RestoreTarget {
  const repos = repositoryService(conn);
  const remove = () =>
    repos.removeRepository({ repository }).catch((err) => {
      if (!(isCallError(err) && err.code === Code.NOT_FOUND)) throw err;
    });
  return {
    async recreate(format, branch, fill) {
      await remove();
      await repos.createRepository({
        repository,
        object_format: format === "sha256" ? 2 : 1,
        default_branch: enc(branch ?? ""),
      });
      try {
        await fill({
          fetchBundle: (sink, path, updateHead) =>
            upload(sink, path, repos.fetchBundle(), (data, first) => ({
              ...(first ? { repository, update_head: updateHead } : {}),
              data,
            })),
          setCustomHooks: (sink, path) =>
            upload(sink, path, repos.restoreCustomHooks(), (data, first) => ({
              ...(first ? { repository } : {}),
              data,
            })),
        });
      } catch (err) {
        await remove().catch(() => {});
        throw err;
      }
    },
  };
}

/** Streams a sink file into a client-streaming call. */
async function upload<Req>(
  sink: FilesystemSink,
  path: string,
  call: { write(r: Req): Promise<void>; end(): void; response: Promise<unknown> },
  message: (data: Uint8Array, first: boolean) => Req,
): Promise<void> {
  const file = await sink.open(path);
  let first = true;
  try {
    for await (const chunk of file.readable) {
      await call.write(message(chunk, first));
      first = false;
    }
    if (first) await call.write(message(new Uint8Array(), true));
    call.end();
  } catch (err) {
    call.end();
    await call.response.catch(() => {});
    throw err;
  }
  await call.response;
}

function enc(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function dec(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
