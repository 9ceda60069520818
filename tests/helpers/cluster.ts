/**
 * A Praefect cluster for tests and benchmarks: Gitaly nodes (ours, or the
 * reference Gitaly) that can be killed and started again on the same
 * storage and socket, one virtual storage of them behind the real
 * Praefect, and questions to Praefect's database.
 *
 * @module
 */
import { GO } from "./go.ts";
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

/** Starts `count` nodes with storages `gitaly-1` … `gitaly-N`, all with {@link NODE_TOKEN}. */
export async function startNodes(kind: NodeKind, count: number): Promise<ClusterNode[]> {
  const storages = Array.from({ length: count }, (_, i) => `gitaly-${i + 1}`);
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
