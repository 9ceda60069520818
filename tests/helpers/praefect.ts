/**
 * The real Praefect 16.7 in front of Gitaly nodes for tests: built once
 * from Gitaly's published Go module (cached in tests/interop/bin/), its
 * config written into a temp dir, its database migrated with `praefect
 * sql-migrate`, served on a Unix socket, and its subcommands (`check`,
 * `dataloss`, …) run against the same config.
 *
 * @module
 */
import { join } from "node:path";
import { GO, goInstall } from "./go.ts";
import type { Postgres } from "./postgres.ts";

/** The package and version Praefect is built from. */
export const PRAEFECT_PACKAGE = "gitlab.com/gitlab-org/gitaly/v16/cmd/praefect@v16.7.0";

/** Gitaly's go.mod replaces one dependency; a throwaway module must say so too. */
const GITALY_REPLACE = [
  "github.com/go-enry/go-license-detector/v4=" +
  "github.com/gl-gitaly/go-license-detector/v4@v4.0.0-20230524080836-4cc9a3796917",
];

/** Builds Praefect (once; later calls reuse the binary) and returns its path. */
export async function praefectBinary(): Promise<string> {
  if (!GO) throw new Error("go is not installed");
  return await goInstall(PRAEFECT_PACKAGE, { replace: GITALY_REPLACE });
}

/** One Gitaly node of the virtual storage. */
export interface PraefectNode {
  storage: string;
  /** `unix:/…` or `tcp://…`. */
  address: string;
  token: string;
}

/** What {@link startPraefect} needs. */
export interface PraefectOptions {
  postgres: Postgres;
  /** A database of its own (created here, then migrated). */
  database: string;
  /** The nodes of the virtual storage (or leave empty and list {@link virtualStorages}). */
  nodes: PraefectNode[];
  /** The virtual storage's name (default `default`). */
  virtualStorage?: string;
  /** More virtual storages, each with nodes of its own. */
  virtualStorages?: { name: string; nodes: PraefectNode[] }[];
  /** Clients' token (default `praefect-secret`). */
  token?: string;
  /** Extra TOML appended to the config. */
  extraToml?: string;
}

/** A running Praefect. */
export interface Praefect {
  dir: string;
  configPath: string;
  /** `unix:/…/praefect.socket`. */
  address: string;
  token: string;
  virtualStorage: string;
  /** `127.0.0.1:PORT` of its Prometheus endpoint. */
  metricsAddress: string;
  /** Runs `praefect -config FILE ARGS…`; resolves to its exit code and output. */
  run(args: string[], env?: Record<string, string>): Promise<CommandOutput>;
  /** Praefect's log so far (JSON lines). */
  log(): string;
  /** Its metrics page. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** A finished subcommand. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Writes the config, migrates the database and starts Praefect; resolves once it accepts calls. */
export async function startPraefect(options: PraefectOptions): Promise<Praefect> {
  const binary = await praefectBinary();
  const dir = await Deno.makeTempDir({ prefix: "praefect-" });
  const configPath = join(dir, "config.toml");
  const socketPath = join(dir, "praefect.socket");
  const token = options.token ?? "praefect-secret";
  const virtualStorage = options.virtualStorage ?? "default";
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  await options.postgres.createDatabase(options.database);
  await Deno.writeTextFile(
    configPath,
    praefectToml(options, { socketPath, token, virtualStorage, metricsAddress }),
  );
  const run = async (args: string[], env: Record<string, string> = {}): Promise<CommandOutput> => {
    const out = await new Deno.Command(binary, {
      args: ["-config", configPath, ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  };
  const migrated = await run(["sql-migrate"]);
  if (migrated.code !== 0) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`praefect sql-migrate failed:\n${migrated.stdout}${migrated.stderr}`);
  }
  const process = new Deno.Command(binary, {
    args: ["-config", configPath, "serve"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let logText = "";
  const decoder = new TextDecoder();
  const drain = (stream: ReadableStream<Uint8Array>) =>
    (async () => {
      for await (const chunk of stream) logText += decoder.decode(chunk, { stream: true });
    })();
  const drained = Promise.all([drain(process.stdout), drain(process.stderr)]);
  const stop = async () => {
    try {
      process.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        process.kill("SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }, 10_000);
    await process.status;
    clearTimeout(timer);
    await drained;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitForSocket(socketPath, process, () => logText);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    dir,
    configPath,
    address: `unix:${socketPath}`,
    token,
    virtualStorage,
    metricsAddress,
    run,
    log: () => logText,
    metrics: async () => await (await fetch(`http://${metricsAddress}/metrics`)).text(),
    stop,
  };
}

function praefectToml(
  options: PraefectOptions,
  at: { socketPath: string; token: string; virtualStorage: string; metricsAddress: string },
): string {
  const q = JSON.stringify;
  const lines = [
    `socket_path = ${q(at.socketPath)}`,
    `prometheus_listen_addr = ${q(at.metricsAddress)}`,
    `graceful_stop_timeout = "5s"`,
    `[auth]`,
    `token = ${q(at.token)}`,
    `[logging]`,
    `format = "json"`,
    `level = "info"`,
    `[database]`,
    `host = ${q(options.postgres.host)}`,
    `port = ${options.postgres.port}`,
    `user = ${q(options.postgres.user)}`,
    `dbname = ${q(options.database)}`,
    `sslmode = "disable"`,
    `[failover]`,
    `enabled = true`,
    `election_strategy = "per_repository"`,
    // A replication job that ran while its target was down (before the
    // health checks noticed) is dead after three quick attempts; the
    // reconciler schedules another (every 5 minutes by default).
    `[reconciliation]`,
    `scheduling_interval = "2s"`,
  ];
  const storages = [
    { name: at.virtualStorage, nodes: options.nodes },
    ...options.virtualStorages ?? [],
  ]
    .filter((v) => v.nodes.length > 0);
  for (const virtualStorage of storages) {
    lines.push(`[[virtual_storage]]`, `name = ${q(virtualStorage.name)}`);
    for (const node of virtualStorage.nodes) {
      lines.push(
        `[[virtual_storage.node]]`,
        `storage = ${q(node.storage)}`,
        `address = ${q(node.address)}`,
        `token = ${q(node.token)}`,
      );
    }
  }
  if (options.extraToml) lines.push(options.extraToml);
  return lines.join("\n") + "\n";
}

/** A loopback port nobody listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return await Promise.resolve(port);
}

async function waitForSocket(
  path: string,
  process: Deno.ChildProcess,
  log: () => string,
): Promise<void> {
  let exited = false;
  process.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`praefect exited before serving:\n${log().slice(-4000)}`);
    try {
      const conn = await Deno.connect({ transport: "unix", path });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`praefect did not open ${path} within 60 s:\n${log().slice(-4000)}`);
}
