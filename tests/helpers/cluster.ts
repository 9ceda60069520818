/**
 * A Praefect cluster for tests and benchmarks: Gitaly nodes (ours, or the
 * reference Gitaly) that can be killed and started again on the same
 * storage and socket, one virtual storage of them behind the real
 * Praefect, and questions to Praefect's database.
 *
 * @module
 */
import { join } from "node:path";
import { GO, goBinary, goInstall } from "./go.ts";
import { gitOk, listRefs, processesReferencing } from "./gitrepo.ts";
import { gitalySshEnv } from "./gitaly_ssh.ts";
import { startGitlabDouble } from "./gitlab_double.ts";
import { type Postgres, POSTGRES_BIN } from "./postgres.ts";
import { type Praefect, startPraefect } from "./praefect.ts";
import { referenceAvailable, startReference } from "./reference.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** The nodes' token (Praefect sends it to them). */
export const NODE_TOKEN = "node-secret";

/** Why cluster tests cannot run here, or undefined when they can. */
export function clusterUnavailable(): string | undefined {
  if (!GO) return "go is not installed";
  if (!POSTGRES_BIN) return "PostgreSQL is not installed (apt-get install postgresql)";
  return undefined;
}

/** One Gitaly node behind Praefect. */
export interface ClusterNode {
  /** Its storage's name, e.g. `gitaly-1`. */
  storage: string;
  /** `unix:/…`: stays the same across restarts. */
  address: string;
  /** Where the storage lives on disk. */
  storagePath: string;
  /** SIGKILLs it and waits until it is gone; its storage stays. */
  kill(): Promise<void>;
  /** Starts it again (after {@link kill}) on the same storage and socket. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The server's log so far. */
  log(): Promise<string>;
}

/** Which implementation the nodes run. */
export type NodeKind = "ours" | "reference";

/** Starts `count` nodes with storages `PREFIX-1` … `PREFIX-N`, all with {@link NODE_TOKEN}. */
export async function startNodes(
  kind: NodeKind,
  count: number,
  prefix = "gitaly",
): Promise<ClusterNode[]> {
  const storages = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  const start = kind === "ours" ? startOurNode : startReferenceNode;
  const started = await Promise.allSettled(storages.map((storage) => start(storage)));
  const nodes = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return nodes;
}

async function startOurNode(storage: string): Promise<ClusterNode> {
  // Every push asks GitLab's internal API; each node has a double of its own.
  const gitlab = await startGitlabDouble();
  const dir = await Deno.makeTempDir({ prefix: `node-${storage}-` });
  const options = { dir, storages: [storage], token: NODE_TOKEN, extraToml: gitlab.toml() };
  let server: TestServer | undefined = await startTestServer(options);
  const first = server;
  let earlierLogs = "";
  return {
    storage,
    address: first.unixAddress,
    storagePath: first.storagePaths[storage],
    kill: async () => {
      if (!server) return;
      earlierLogs += server.stderr();
      await server.stop("SIGKILL");
      server = undefined;
      // As if its machine went down: the git and hook processes it left behind go too
      // (one of them may hold its socket open, and the node would not start again).
      for (const pid of await processesReferencing(dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
    },
    restart: async () => {
      server = await startTestServer(options);
    },
    stop: async () => {
      await server?.stop().catch(() => {});
      server = undefined;
      await gitlab.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    log: () => Promise.resolve(earlierLogs + (server?.stderr() ?? "")),
  };
}

async function startReferenceNode(storage: string): Promise<ClusterNode> {
  if (!await referenceAvailable()) throw new Error("the reference Gitaly is not installed");
  const reference = await startReference({ storageName: storage, token: NODE_TOKEN });
  return {
    storage,
    address: reference.address,
    storagePath: reference.storagePath,
    kill: () => reference.kill(),
    restart: () => reference.restart(),
    stop: () => reference.stop(),
    log: () => Deno.readTextFile(`${reference.dir}/gitaly.log`).catch(() => ""),
  };
}

/** Nodes behind a Praefect. */
export interface Cluster {
  nodes: ClusterNode[];
  praefect: Praefect;
  /** The node serving `storage`. */
  node(storage: string): ClusterNode;
  /** Runs SQL on Praefect's database (psql's unaligned, tuples-only output). */
  sql(query: string): Promise<string>;
  /** Stops Praefect and the nodes (not PostgreSQL). */
  stop(): Promise<void>;
}

let databases = 0;

/** Starts `count` nodes of `kind` and a Praefect with a new database in `postgres` in front of them. */
export async function startCluster(
  postgres: Postgres,
  kind: NodeKind,
  count = 3,
  extraToml?: string,
): Promise<Cluster> {
  const nodes = await startNodes(kind, count);
  const database = `praefect_${kind}_${Deno.pid}_${++databases}`;
  let praefect: Praefect;
  try {
    praefect = await startPraefect({
      postgres,
      database,
      nodes: nodes.map((n) => ({ storage: n.storage, address: n.address, token: NODE_TOKEN })),
      extraToml,
    });
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    nodes,
    praefect,
    node: (storage) => {
      const found = nodes.find((n) => n.storage === storage);
      if (!found) throw new Error(`no node serves ${storage}`);
      return found;
    },
    sql: (query) => postgres.sql(database, query),
    stop: async () => {
      await praefect.stop();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/** Gitaly's gitaly-ssh, built from its published module. */
export const GITALY_SSH_PACKAGE = "gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0";

/** Talking to Praefect as GitLab does: Gitaly's Go client, and git through Gitaly's gitaly-ssh. */
export interface ClusterClient {
  /**
   * Runs one command of tests/interop/praefect_client (create, exists,
   * remove, checksum, default-branch, metadata, reads, disk, readiness,
   * info) and returns its JSON answer; throws with the gRPC code and
   * message when the call fails.
   */
  call(command: string, relativePath?: string, extra?: string[]): Promise<Record<string, unknown>>;
  /** The environment for `git push/clone ssh://gitaly/REL` through Praefect. */
  gitEnv(command: "receive-pack" | "upload-pack", relativePath: string): Record<string, string>;
}

/** A client of `praefect` (or of any Gitaly address with `token`), for `storage`'s repositories. */
export async function clusterClient(
  address: string,
  token: string,
  storage = "default",
): Promise<ClusterClient> {
  const [program, gitalySsh] = await Promise.all([
    goBinary("praefect_client"),
    goInstall(GITALY_SSH_PACKAGE),
  ]);
  return {
    call: async (command, relativePath = "", extra = []) => {
      const out = await new Deno.Command(program, {
        args: [
          ...["-address", address, "-token", token, "-storage", storage, "-repo", relativePath],
          ...extra,
          command,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      if (!out.success) throw new Error(`${command} ${relativePath}: ${decode(out.stderr).trim()}`);
      return JSON.parse(decode(out.stdout));
    },
    gitEnv: (command, relativePath) =>
      gitalySshEnv({
        program: gitalySsh,
        command,
        address,
        token,
        payload: command === "receive-pack"
          ? {
            repository: { storageName: storage, relativePath, glRepository: "project-1" },
            glId: "user-1",
            glRepository: "project-1",
          }
          : { repository: { storageName: storage, relativePath } },
      }),
  };
}

/** One replica in Praefect's records (PraefectInfoService GetRepositoryMetadata). */
export interface ReplicaRecord {
  storage: string;
  assigned: boolean;
  generation: number;
  healthy: boolean;
  valid_primary: boolean;
  verified_at: string | null;
}

/** A repository in Praefect's records. */
export interface RepositoryRecord {
  replica_path: string;
  primary: string;
  generation: number;
  replicas: ReplicaRecord[];
}

/** Praefect's records of `relativePath` in the virtual storage. */
export async function repositoryRecord(
  client: ClusterClient,
  relativePath: string,
): Promise<RepositoryRecord> {
  const answer = await client.call("metadata", relativePath);
  const replicas = (answer.replicas as Record<string, unknown>[]).map((r) => ({
    storage: String(r.storage),
    assigned: Boolean(r.assigned),
    generation: Number(r.generation),
    healthy: Boolean(r.healthy),
    valid_primary: Boolean(r.valid_primary),
    verified_at: (r.verified_at as string | null) ?? null,
  }));
  replicas.sort((a, b) => a.storage.localeCompare(b.storage));
  return {
    replica_path: String(answer.replica_path),
    primary: String(answer.primary),
    generation: Number(answer.generation),
    replicas,
  };
}

/** Polls `probe` until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}` +
      (lastError ? `: ${lastError}` : ""),
  );
}

/** Praefect's replication jobs not done yet (`ready` or `in_progress`). */
export async function pendingJobs(cluster: Pick<Cluster, "sql">): Promise<number> {
  return Number(
    await cluster.sql(
      "SELECT count(*) FROM replication_queue WHERE state IN ('ready', 'in_progress')",
    ),
  );
}

/** Each node's refs of the replica at `replicaPath` (undefined where it is missing). */
export async function replicaRefs(
  cluster: Cluster,
  replicaPath: string,
): Promise<Record<string, Record<string, string> | undefined>> {
  const refs: Record<string, Record<string, string> | undefined> = {};
  for (const node of cluster.nodes) {
    const path = join(node.storagePath, replicaPath);
    refs[node.storage] = await Deno.stat(path).then(() => listRefs(path), () => undefined);
  }
  return refs;
}

/** A push through Praefect that takes longer is killed (and the test fails instead of hanging). */
const PUSH_TIMEOUT_MS = 120_000;

/**
 * Commits in `checkout` (an empty commit, or a file of `bytes` random
 * bytes) and pushes HEAD to `branch` through Praefect; returns the commit.
 */
export async function pushCommit(
  client: ClusterClient,
  checkout: string,
  relativePath: string,
  branch: string,
  bytes = 0,
): Promise<string> {
  if (bytes > 0) {
    const data = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await Deno.writeFile(join(checkout, `blob-${branch}.bin`), data);
    await gitOk(["add", "."], { cwd: checkout });
  }
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", `push to ${branch}`], { cwd: checkout });
  const push = gitOk([
    "push",
    "--quiet",
    "ssh://gitaly/" + relativePath,
    `HEAD:refs/heads/${branch}`,
  ], {
    cwd: checkout,
    env: client.gitEnv("receive-pack", relativePath),
    signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
  });
  // Killing git leaves gitaly-ssh holding its pipes: fail without waiting for them.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`push to ${branch} took over ${PUSH_TIMEOUT_MS} ms`)),
      PUSH_TIMEOUT_MS + 5_000,
    );
  });
  try {
    await Promise.race([push, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return await gitOk(["rev-parse", "HEAD"], { cwd: checkout });
}

/** Whether a `git receive-pack` works in a repository under `storagePath` right now (from /proc). */
export async function receivePackRunning(storagePath: string): Promise<boolean> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    if (cmdline.includes("receive-pack") && cmdline.includes(storagePath)) return true;
  }
  return false;
}
