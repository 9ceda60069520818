/**
 * The repository another repository is copied or fetched from
 * (`ReplicateRepository`, `CreateFork`, `FetchSourceBranch`), behind one
 * interface with two implementations:
 *
 * - **local**: the source storage is configured on this server. Git reads
 *   it straight from its path (local transport, `--no-local` for clones),
 *   files are read from disk. No self-connection, no token, no extra
 *   process: faster than going through gitaly-ssh, and the data is the
 *   same because it is the same disk.
 * - **remote**: any other storage, reached as the `gitaly-servers` metadata
 *   says. Git fetches through gitaly-ssh (`SSHUploadPack`); the rest comes
 *   from the source server's RPCs (`RepositoryExists`, `FindCommit`,
 *   `GetConfig`, `GetInfoAttributes`, `GetCustomHooks`, `GetSnapshot`), as
 *   Gitaly does it.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { join } from "node:path";
import { commitService, methodCodec, repositoryService } from "../../client/services.ts";
import { serverStreamCall } from "../../client/stream_calls.ts";
import { methodByPath } from "../../proto/mod.ts";
import { dial } from "../../client/dial.ts";
import { featureFlagMetadata } from "../../client/feature_flags.ts";
import type { GitConfigEntry } from "../../git/command.ts";
import type { Repository } from "../../proto/types.ts";
import { Code } from "../../server/errors.ts";
import { metadataValue } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { parseGitConfigOptions } from "../shared/git_options.ts";
import { gitalyServerFor, type GitalyServerInfo } from "../remote/gitaly_servers.ts";
import { featureFlagsOf, INTERNAL_GITALY_URL, internalFetchEnv } from "../remote/internal_fetch.ts";
import { customHooksTar } from "./custom_hooks.ts";
import { snapshotEntries } from "./get_snapshot.ts";
import { tarStream } from "./tar_writer.ts";

/** How git reaches the source: URL plus what to add to the git command. */
export interface GitRemote {
  url: string;
  env: Record<string, string>;
  config: GitConfigEntry[];
}

/** Options of {@link ReplicationSource.gitRemote}: what the source's upload-pack should do. */
export interface RemoteOptions {
  /** `key=value` settings for the source's upload-pack. */
  uploadPackConfig?: string[];
  /** `version=2` to speak protocol v2 (remote sources; local git picks its own). */
  gitProtocol?: string;
}

/** A source repository, local or on another server. */
export interface ReplicationSource {
  readonly repository: Repository;
  readonly local: boolean;
  /** The URL and settings for git commands reading from the source. */
  gitRemote(options?: RemoteOptions): GitRemote;
  exists(signal?: AbortSignal): Promise<boolean>;
  /** The commit id `revision` names in the source, or undefined when it names none. */
  resolveCommit(revision: string, signal?: AbortSignal): Promise<string | undefined>;
  /** The source's `config` file. */
  config(signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** The source's `info/attributes` (empty when it has none). */
  infoAttributes(signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** A tar of the source's custom hooks (empty when it has none). */
  customHooks(signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** A tar of the source's refs and objects (see `get_snapshot.ts`). */
  snapshot(signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** Releases the connection, if any. */
  close(): void;
}

/**
 * Opens `repository` as a source: local when its storage is configured
 * here, otherwise through the server `metadata`'s `gitaly-servers` names.
 */
export async function openSource(
  deps: ServiceDeps,
  repository: Repository,
  metadata: grpc.Metadata,
): Promise<ReplicationSource> {
  if (deps.locator.storageNames().includes(repository.storage_name)) {
    const path = await deps.locator.repoPath(repository, { allowMissing: true });
    return new LocalSource(deps, repository, path);
  }
  return new RemoteSource(
    deps,
    repository,
    gitalyServerFor(metadata, repository.storage_name),
    metadata,
  );
}

/** A source on one of this server's storages. */
class LocalSource implements ReplicationSource {
  readonly local = true;

  constructor(
    readonly deps: ServiceDeps,
    readonly repository: Repository,
    /** Validated path (the repository may not exist). */
    readonly path: string,
  ) {}

  gitRemote(options: RemoteOptions = {}): GitRemote {
    const url = this.path;
    // Local transport runs upload-pack as a child of our git: -c settings reach it.
    const config = parseGitConfigOptions([
      "transfer.hideRefs=!refs",
      ...(options.uploadPackConfig ?? []),
    ]);
    return { url, env: {}, config };
  }

  async exists(): Promise<boolean> {
    try {
      await this.deps.locator.repoPath(this.repository);
      return true;
    } catch {
      return false;
    }
  }

  async resolveCommit(revision: string, signal?: AbortSignal): Promise<string | undefined> {
    const result = await this.deps.git.run({
      gitDir: await this.deps.locator.repoPath(this.repository),
      args: ["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`],
      signal,
    });
    return result.code === 0 ? new TextDecoder().decode(result.stdout).trim() : undefined;
  }

  async *config(): AsyncIterable<Uint8Array> {
    await this.deps.locator.repoPath(this.repository); // NotFound when missing
    yield* readFile(join(this.path, "config"));
  }

  async *infoAttributes(): AsyncIterable<Uint8Array> {
    yield* readFile(join(this.path, "info", "attributes"), true);
  }

  async *customHooks(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const archive = customHooksTar(this.path, signal);
    if (archive) yield* archive;
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    const storagePath = this.deps.locator.storagePath(this.repository.storage_name);
    yield* tarStream(
      snapshotEntries(storagePath, await this.deps.locator.repoPath(this.repository)),
    );
  }

  close(): void {}
}

/** A source on another server. */
class RemoteSource implements ReplicationSource {
  readonly local = false;
  readonly #client: grpc.Client;
  readonly #callMetadata: Record<string, string>;

  constructor(
    readonly deps: ServiceDeps,
    readonly repository: Repository,
    readonly server: GitalyServerInfo,
    readonly incoming: grpc.Metadata,
  ) {
    this.#callMetadata = featureFlagMetadata(featureFlagsOf(incoming));
    const correlationId = metadataValue(incoming, "x-gitlab-correlation-id");
    if (correlationId) this.#callMetadata["x-gitlab-correlation-id"] = correlationId;
    this.#client = dial(server.address, { token: server.token, metadata: this.#callMetadata });
  }

  gitRemote(options: RemoteOptions = {}): GitRemote {
    const env = internalFetchEnv(this.server, {
      repository: this.repository,
      gitConfigOptions: options.uploadPackConfig,
      gitProtocol: options.gitProtocol,
    }, this.incoming);
    return { url: INTERNAL_GITALY_URL, env, config: [] };
  }

  async exists(signal?: AbortSignal): Promise<boolean> {
    const response = await repositoryService(this.#client).repositoryExists(
      { repository: this.repository },
      { signal },
    );
    return response.exists === true;
  }

  async resolveCommit(revision: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const response = await commitService(this.#client).findCommit(
        { repository: this.repository, revision: new TextEncoder().encode(revision) },
        { signal },
      );
      return response.commit?.id || undefined;
    } catch (err) {
      if ((err as { code?: number }).code !== Code.UNIMPLEMENTED) throw err;
      // A source server without CommitService: ask its upload-pack instead.
      return await resolveByLsRemote(
        this.deps,
        this.gitRemote({ gitProtocol: "version=2" }),
        revision,
        signal,
      );
    }
  }

  config(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.#bytes("/gitaly.RepositoryService/GetConfig", "data", signal);
  }

  infoAttributes(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.#bytes("/gitaly.RepositoryService/GetInfoAttributes", "attributes", signal);
  }

  customHooks(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.#bytes("/gitaly.RepositoryService/GetCustomHooks", "data", signal);
  }

  snapshot(signal?: AbortSignal): AsyncIterable<Uint8Array> {
    return this.#bytes("/gitaly.RepositoryService/GetSnapshot", "data", signal);
  }

  close(): void {
    this.#client.close();
  }

  async *#bytes(path: string, field: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const responses = serverStreamCall(
      this.#client,
      methodCodec(methodByPath(path)!),
      { repository: this.repository },
      { signal },
    ) as AsyncIterable<Record<string, Uint8Array | undefined>>;
    for await (const response of responses) {
      const data = response[field];
      if (data?.byteLength) yield data;
    }
  }
}

/**
 * Resolves `revision` from the refs the source advertises, in the order
 * git's own lookup tries names; peeled tags name their commit. A full
 * object id is taken as is (the fetch will tell whether it exists).
 */
export async function resolveByLsRemote(
  deps: ServiceDeps,
  remote: GitRemote,
  revision: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(revision)) return revision;
  const { stdout } = await deps.git.runOk({
    args: ["ls-remote", "--", remote.url],
    env: remote.env,
    config: remote.config,
    signal,
  });
  const refs = new Map<string, string>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const [oid, name] = line.split("\t");
    if (oid && name) refs.set(name, oid);
  }
  const candidates = [
    revision,
    `refs/${revision}`,
    `refs/tags/${revision}`,
    `refs/heads/${revision}`,
  ];
  for (const name of candidates) {
    const oid = refs.get(`${name}^{}`) ?? refs.get(name);
    if (oid) return oid;
  }
  return undefined;
}

/** A file's bytes, in reads of up to 128 KiB; `optional` files that are missing read as empty. */
async function* readFile(path: string, optional = false): AsyncIterable<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    if (optional && err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  yield* file.readable;
}
