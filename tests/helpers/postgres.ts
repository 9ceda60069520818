/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir and a
 * `postgres` listening only on a Unix socket in that dir (no TCP port to
 * collide on), trust authentication for the `postgres` superuser. When we
 * run as root it runs as `nobody`, since PostgreSQL refuses root. Tests
 * skip when the binaries are missing ({@link POSTGRES_BIN} is undefined).
 *
 * @module
 */
import { join } from "node:path";

/** The folder with initdb, pg_ctl and postgres, or undefined when PostgreSQL is not installed. */
export const POSTGRES_BIN: string | undefined = await findPostgres();

async function findPostgres(): Promise<string | undefined> {
  const candidates: string[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      candidates.push(join("/usr/lib/postgresql", entry.name, "bin"));
    }
  } catch {
    return undefined; // not installed
  }
  // Newest major version first.
  candidates.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  for (const bin of candidates) {
    if (await Deno.stat(join(bin, "initdb")).then(() => true, () => false)) return bin;
  }
  return undefined;
}

/** A running cluster. */
export interface Postgres {
  /** The socket folder: Praefect's `[database] host`. */
  host: string;
  /** The port in the socket's name (`.s.PGSQL.<port>`); nothing listens on TCP. */
  port: number;
  user: string;
  /** Creates a database (owned by {@link user}). */
  createDatabase(name: string): Promise<void>;
  /** Runs SQL through psql on `database` and returns its unaligned, tuples-only output. */
  sql(database: string, query: string): Promise<string>;
  stop(): Promise<void>;
}

const PORT = 5432;

/** Creates and starts a cluster in a new temp dir. */
export async function startPostgres(): Promise<Postgres> {
  if (!POSTGRES_BIN) throw new Error("PostgreSQL is not installed");
  const bin = POSTGRES_BIN;
  const dir = await Deno.makeTempDir({ prefix: "pg-test-" });
  const data = join(dir, "data");
  const asRoot = Deno.uid() === 0;
  // The cluster's files belong to whoever runs postgres.
  if (asRoot) await Deno.chown(dir, 65534, 65534);
  await Deno.chmod(dir, 0o755);
  const run = (program: string, args: string[]) => runAs(asRoot, join(bin, program), args);
  await run("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "--encoding=UTF8",
    "--locale=C",
  ]);
  await Deno.writeTextFile(
    join(data, "postgresql.auto.conf"),
    [
      "listen_addresses = ''",
      `unix_socket_directories = '${dir}'`,
      `port = ${PORT}`,
      "fsync = off",
      "synchronous_commit = off",
      "full_page_writes = off",
      "max_connections = 200",
      "shared_buffers = 32MB",
      "",
    ].join("\n"),
    { append: true },
  );
  await run("pg_ctl", ["-D", data, "-l", join(dir, "postgres.log"), "-w", "-t", "60", "start"]);
  const psql = async (database: string, args: string[]) =>
    await runAs(false, join(bin, "psql"), [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      dir,
      "-p",
      String(PORT),
      "-U",
      "postgres",
      "-d",
      database,
      ...args,
    ]);
  return {
    host: dir,
    port: PORT,
    user: "postgres",
    createDatabase: async (name) => {
      await psql("postgres", ["-c", `CREATE DATABASE "${name.replaceAll('"', '""')}"`]);
    },
    sql: async (database, query) => (await psql(database, ["-A", "-t", "-c", query])).trim(),
    stop: async () => {
      await run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs a program (as `nobody` when `drop`) and returns its stdout; throws with its output on failure. */
async function runAs(drop: boolean, program: string, args: string[]): Promise<string> {
  const argv = drop
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", program, ...args]
    : [program, ...args];
  const result = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!result.success) {
    throw new Error(`${argv.join(" ")} failed:\n${decode(result.stderr)}${decode(result.stdout)}`);
  }
  return decode(result.stdout);
}
