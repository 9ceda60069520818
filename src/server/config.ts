/**
 * Gitaly's `config.toml`, the subset this server understands, parsed and
 * validated. Keys of Gitaly 16.7 we do not support yet and keys Gitaly does
 * not know either produce (different) warnings; a bad value refuses to
 * start and names the key; malformed TOML names the line and column.
 *
 * @module
 */
import { parse as parseToml } from "smol-toml";
import { isAbsolute, join, resolve } from "node:path";
import type { GitlabSettings } from "../gitlab/client.ts";

/** One `[[storage]]` entry: a name clients use and the directory behind it. */
export interface StorageConfig {
  name: string;
  path: string;
}

/** A `[[git.config]]` entry, passed to every git command as `-c key=value`. */
export interface GitConfigEntry {
  key: string;
  value: string;
}

/** The validated server configuration. Paths are absolute. */
export interface Config {
  socketPath?: string;
  listenAddr?: string;
  tlsListenAddr?: string;
  tls?: { certificatePath: string; keyPath: string };
  storages: StorageConfig[];
  auth: { token: string; transitioning: boolean };
  git: {
    binPath: string;
    config: GitConfigEntry[];
    catfileCacheSize: number;
    /** Most git processes running at once (ours, not Gitaly's); beyond it calls queue. */
    maxProcesses: number;
  };
  logging: { format: "json" | "text"; level: LogLevel };
  prometheusListenAddr?: string;
  /** How long in-flight calls may run after SIGTERM, in milliseconds. */
  gracefulRestartTimeoutMs: number;
  hooks: { customHooksDir?: string };
  /**
   * GitLab's internal API (`[gitlab]`); pushes are checked against it.
   * Unset when no `url` is configured: then only custom hooks run.
   */
  gitlab?: GitlabSettings;
  /** Where the server keeps its hook scripts and internal socket (default: a temp dir). */
  runtimeDir?: string;
  /** `[daily_maintenance]`: background optimization of every repository. */
  dailyMaintenance: DailyMaintenanceConfig;
  /** `[[concurrency]]`, `[pack_objects_limiting]`, `[[rate_limiting]]`. */
  limits: LimitsConfig;
  /** Server-side backups (`[backup]`); absent when `go_cloud_url` is not set. */
  backup?: BackupConfig;
  /** `[pack_objects_cache]`: identical fetches share one pack-objects run. */
  packObjectsCache?: PackObjectsCacheConfig;
}

/** `[pack_objects_cache]`, with Gitaly's defaults. */
export interface PackObjectsCacheConfig {
  enabled: boolean;
  /** Where entries are written (default `<first storage>/+gitaly/PackObjectsCache`). */
  dir: string;
  /** How long an entry serves new requests (default 5 minutes). */
  maxAgeMs: number;
  /** Requests of a key before the one whose output is cached (default 1: the second is). */
  minOccurrences: number;
}

/** Gitaly's `[daily_maintenance]` window (UTC), defaulting to 12:00 for 10 minutes on every storage. */
export interface DailyMaintenanceConfig {
  disabled: boolean;
  startHour: number;
  startMinute: number;
  durationMs: number;
  /** Storage names to walk, in order. */
  storages: string[];
}

/** One `[[concurrency]]` entry. */
export interface ConcurrencyConfig {
  /** Full method name, e.g. `/gitaly.SSHService/SSHUploadPack`. */
  rpc: string;
  maxPerRepo: number;
  /** 0: unbounded. */
  maxQueueSize: number;
  /** In ms; 0: unbounded. */
  maxQueueWaitMs: number;
  /** Gitaly's adaptive limit (`adaptive`, `initial_limit`, `min_limit`, `max_limit`). */
  adaptive?: { initial: number; min: number; max: number };
}

/** `[pack_objects_limiting]`. */
export interface PackObjectsLimitingConfig {
  key: "repository" | "user";
  maxConcurrency: number;
  maxQueueLength: number;
  maxQueueWaitMs: number;
}

/** One `[[rate_limiting]]` entry. */
export interface RateLimitingConfig {
  rpc: string;
  intervalMs: number;
  burst: number;
}

/** The request limits. */
export interface LimitsConfig {
  concurrency: ConcurrencyConfig[];
  packObjects?: PackObjectsLimitingConfig;
  rateLimiting: RateLimitingConfig[];
}

/** `[backup]`: where BackupRepository and RestoreRepository keep backups. */
export interface BackupConfig {
  /** The sink's root directory (from a `file://` URL or a plain path). */
  sinkPath: string;
  /** How backups are laid out in the sink (Gitaly's `layout`, default `pointer`). */
  layout: "legacy" | "pointer";
}

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A configuration that cannot be used; `key` names the offending setting. */
export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`config: ${key}: ${message}`);
    this.name = "ConfigError";
  }
}

/**
 * Gitaly 16.7's configuration keys: a nested table per TOML table (also for
 * arrays of tables), `true` for a value. Keys found here that we do not
 * read are "not supported yet"; keys not found here are unknown.
 */
type KeySchema = { [key: string]: KeySchema | true };

const leaves = (...keys: string[]): KeySchema => Object.fromEntries(keys.map((k) => [k, true]));

const GITALY_KEYS: KeySchema = {
  ...leaves(
    "socket_path",
    "listen_addr",
    "tls_listen_addr",
    "prometheus_listen_addr",
    "bin_dir",
    "runtime_dir",
    "graceful_restart_timeout",
  ),
  git: {
    ...leaves(
      "use_bundled_binaries",
      "bin_path",
      "catfile_cache_size",
      "signing_key",
      "rotated_signing_keys",
      "committer_name",
      "committer_email",
    ),
    config: leaves("key", "value"),
  },
  storage: leaves("name", "path"),
  logging: leaves("dir", "format", "level", "sentry_dsn", "sentry_environment"),
  prometheus: leaves("grpc_latency_buckets", "scrape_timeout"),
  auth: leaves("token", "transitioning"),
  tls: leaves("certificate_path", "key_path"),
  gitlab: {
    ...leaves("url", "relative_url_root", "secret_file", "secret"),
    "http-settings": leaves("read_timeout", "user", "password", "ca_file", "ca_path"),
  },
  "gitlab-shell": leaves("dir"),
  hooks: leaves("custom_hooks_dir"),
  concurrency: leaves(
    "rpc",
    "max_per_repo",
    "max_queue_size",
    "max_queue_wait",
    "adaptive",
    "min_limit",
    "max_limit",
    "initial_limit",
  ),
  rate_limiting: leaves("rpc", "interval", "burst"),
  daily_maintenance: leaves("start_hour", "start_minute", "duration", "storages", "disabled"),
  cgroups: {
    ...leaves(
      "mountpoint",
      "hierarchy_root",
      "memory_bytes",
      "cpu_shares",
      "cpu_quota_us",
      "metrics_enabled",
      "count",
    ),
    repositories: leaves(
      "count",
      "memory_bytes",
      "cpu_shares",
      "cpu_quota_us",
      "max_cgroups_per_repo",
    ),
    memory: leaves("enabled", "limit"),
    cpu: leaves("enabled", "shares"),
  },
  pack_objects_cache: leaves("enabled", "dir", "max_age", "min_occurrences"),
  pack_objects_limiting: leaves("key", "max_concurrency", "max_queue_length", "max_queue_wait"),
  backup: leaves("go_cloud_url", "layout"),
  timeout: leaves("upload_pack_negotiation", "upload_archive_negotiation"),
  transactions: leaves("enabled"),
  adaptive_limiting: leaves("cpu_throttled_threshold", "memory_threshold"),
};

/** The result of loading: the config plus warnings about ignored keys. */
export interface LoadedConfig {
  config: Config;
  warnings: string[];
}

/** The configuration used when no file is given, relative to `baseDir`. */
export const DEFAULT_CONFIG_TOML = `
socket_path = "data/gitaly.socket"
listen_addr = "127.0.0.1:9999"
prometheus_listen_addr = "127.0.0.1:9236"

[[storage]]
name = "default"
path = "data/repositories"

[logging]
format = "text"
level = "info"
`;

const DEFAULT_GRACEFUL_TIMEOUT_MS = 60_000;
const DEFAULT_CATFILE_CACHE_SIZE = 100;
const DEFAULT_MAX_PROCESSES = 512;

/** Reads and validates a config file; relative paths resolve against its folder. */
export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError("file", `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, resolve(path, ".."));
}

/** Parses config text; relative paths resolve against `baseDir`. */
export function parseConfig(text: string, baseDir: string): LoadedConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError("toml", describeTomlError(err));
  }
  const reader = new TableReader(doc, "", baseDir, GITALY_KEYS);
  const config = readConfig(reader);
  return { config, warnings: [...new Set(reader.warnings)] };
}

function readConfig(r: TableReader): Config {
  const config: Config = {
    socketPath: r.optionalPath("socket_path"),
    listenAddr: r.optionalAddress("listen_addr"),
    tlsListenAddr: r.optionalAddress("tls_listen_addr"),
    tls: readTls(r.table("tls")),
    storages: readStorages(r),
    auth: readAuth(r.table("auth")),
    git: readGit(r.table("git")),
    logging: readLogging(r.table("logging")),
    prometheusListenAddr: r.optionalAddress("prometheus_listen_addr"),
    gracefulRestartTimeoutMs: r.optionalDuration("graceful_restart_timeout") ??
      DEFAULT_GRACEFUL_TIMEOUT_MS,
    hooks: { customHooksDir: r.table("hooks").optionalPath("custom_hooks_dir") },
    gitlab: readGitlab(r.table("gitlab")),
    runtimeDir: r.optionalPath("runtime_dir"),
    dailyMaintenance: { disabled: true, startHour: 0, startMinute: 0, durationMs: 0, storages: [] },
    limits: {
      concurrency: r.tableArray("concurrency").map(readConcurrency),
      packObjects: readPackObjectsLimiting(r.table("pack_objects_limiting")),
      rateLimiting: r.tableArray("rate_limiting").map(readRateLimiting),
    },
    backup: readBackup(r.table("backup")),
    packObjectsCache: { enabled: false, dir: "", maxAgeMs: 0, minOccurrences: 1 },
  };
  config.dailyMaintenance = readDailyMaintenance(r.table("daily_maintenance"), config.storages);
  config.packObjectsCache = readPackObjectsCache(r.table("pack_objects_cache"), config.storages);
  r.warnUnread();
  if (!config.socketPath && !config.listenAddr && !config.tlsListenAddr) {
    throw new ConfigError(
      "listen_addr",
      "set at least one of socket_path, listen_addr, tls_listen_addr",
    );
  }
  if (config.tlsListenAddr && !config.tls) {
    throw new ConfigError("tls", "tls_listen_addr needs [tls] certificate_path and key_path");
  }
  return config;
}

function readGitlab(r: TableReader): Config["gitlab"] {
  const url = r.optionalString("url") ?? "";
  const relativeUrlRoot = r.optionalString("relative_url_root");
  const secret = r.optionalString("secret");
  const secretFile = r.optionalPath("secret_file");
  const h = r.table("http-settings");
  const httpSettings = {
    readTimeout: h.optionalInteger("read_timeout"),
    user: h.optionalString("user"),
    password: h.optionalString("password"),
    caFile: h.optionalPath("ca_file"),
    caPath: h.optionalPath("ca_path"),
  };
  h.warnUnread();
  r.warnUnread();
  if (!url) return undefined;
  if (!/^(https?|http\+unix):\/\/./.test(url)) {
    throw new ConfigError(
      "gitlab.url",
      `must start with http://, https:// or http+unix://: ${JSON.stringify(url)}`,
    );
  }
  if (!secret && !secretFile) {
    throw new ConfigError("gitlab.secret_file", "set secret_file (or secret) for the GitLab API");
  }
  return { url, relativeUrlRoot, secret, secretFile, httpSettings };
}

function readDailyMaintenance(
  r: TableReader,
  storages: StorageConfig[],
): DailyMaintenanceConfig {
  const configured = Object.keys(r.doc).length > 0;
  const startHour = r.optionalInteger("start_hour") ?? (configured ? 0 : 12);
  const startMinute = r.optionalInteger("start_minute") ?? 0;
  const durationMs = r.optionalDuration("duration") ?? (configured ? 0 : 10 * 60_000);
  const names = r.optionalStringArray("storages") ??
    (configured ? [] : storages.map((s) => s.name));
  const disabled = r.optionalBoolean("disabled") ?? false;
  r.warnUnread();
  // Gitaly's checks and messages.
  if (startHour > 23) {
    throw new ConfigError(
      "daily_maintenance.start_hour",
      `daily maintenance specified hour '${startHour}' outside range (0-23)`,
    );
  }
  if (startMinute > 59) {
    throw new ConfigError(
      "daily_maintenance.start_minute",
      `daily maintenance specified minute '${startMinute}' outside range (0-59)`,
    );
  }
  if (durationMs > 24 * 3600_000) {
    throw new ConfigError(
      "daily_maintenance.duration",
      "daily maintenance specified duration must be less than 24 hours",
    );
  }
  for (const name of names) {
    if (!storages.some((s) => s.name === name)) {
      throw new ConfigError(
        "daily_maintenance.storages",
        `daily maintenance specified storage ${
          JSON.stringify(name)
        } does not exist in configuration`,
      );
    }
  }
  return { disabled, startHour, startMinute, durationMs, storages: names };
}

/** An RPC named as Gitaly names it: the full method, `/gitaly.Service/Method`. */
function readRpcName(r: TableReader): string {
  const rpc = r.requiredString("rpc");
  if (!/^\/[A-Za-z0-9_.]+\/[A-Za-z0-9_]+$/.test(rpc)) {
    throw new ConfigError(
      `${r.prefix}rpc`,
      `must be a full method name like "/gitaly.SSHService/SSHUploadPack", not ${
        JSON.stringify(rpc)
      }`,
    );
  }
  return rpc;
}

function readConcurrency(r: TableReader): ConcurrencyConfig {
  const entry: ConcurrencyConfig = {
    rpc: readRpcName(r),
    maxPerRepo: r.optionalInteger("max_per_repo") ?? 0,
    maxQueueSize: r.optionalInteger("max_queue_size") ?? 0,
    maxQueueWaitMs: r.optionalDuration("max_queue_wait") ?? 0,
  };
  const adaptive = r.optionalBoolean("adaptive") ?? false;
  const initial = r.optionalInteger("initial_limit") ?? 0;
  const min = r.optionalInteger("min_limit") ?? 0;
  const max = r.optionalInteger("max_limit") ?? 0;
  r.warnUnread();
  if (adaptive) {
    // Gitaly's rules: 0 < min_limit <= initial_limit <= max_limit.
    if (min <= 0) throw new ConfigError(`${r.prefix}min_limit`, "must be greater than 0");
    if (initial < min) {
      throw new ConfigError(`${r.prefix}initial_limit`, "must be at least min_limit");
    }
    if (max < initial) {
      throw new ConfigError(`${r.prefix}max_limit`, "must be at least initial_limit");
    }
    entry.adaptive = { initial, min, max };
  }
  return entry;
}

function readPackObjectsLimiting(r: TableReader): PackObjectsLimitingConfig | undefined {
  const key = r.optionalString("key") ?? "repository";
  if (key !== "repository" && key !== "user") {
    throw new ConfigError(
      `${r.prefix}key`,
      `unsupported pack objects limiting key: ${key} (use "repository" or "user")`,
    );
  }
  const config: PackObjectsLimitingConfig = {
    key,
    maxConcurrency: r.optionalInteger("max_concurrency") ?? 0,
    maxQueueLength: r.optionalInteger("max_queue_length") ?? 0,
    maxQueueWaitMs: r.optionalDuration("max_queue_wait") ?? 0,
  };
  r.warnUnread();
  return config.maxConcurrency > 0 ? config : undefined;
}

function readRateLimiting(r: TableReader): RateLimitingConfig {
  const entry = {
    rpc: readRpcName(r),
    intervalMs: r.optionalDuration("interval") ?? 0,
    burst: r.optionalInteger("burst") ?? 0,
  };
  r.warnUnread();
  return entry;
}

function readPackObjectsCache(
  r: TableReader,
  storages: StorageConfig[],
): PackObjectsCacheConfig {
  const dir = r.optionalPath("dir");
  const config: PackObjectsCacheConfig = {
    enabled: r.optionalBoolean("enabled") ?? false,
    dir: dir ?? (storages[0] ? join(storages[0].path, "+gitaly", "PackObjectsCache") : ""),
    maxAgeMs: r.optionalDuration("max_age") ?? 5 * 60_000,
    minOccurrences: r.optionalInteger("min_occurrences") ?? 1,
  };
  r.warnUnread();
  if (config.maxAgeMs <= 0) {
    throw new ConfigError(`${r.prefix}max_age`, "must be a positive duration");
  }
  if (config.minOccurrences < 0) {
    throw new ConfigError(`${r.prefix}min_occurrences`, "must not be negative");
  }
  if (config.enabled && !config.dir) {
    throw new ConfigError(`${r.prefix}dir`, "needs a storage or a dir");
  }
  return config;
}

function readBackup(r: TableReader): Config["backup"] {
  const url = r.optionalString("go_cloud_url");
  const layout = r.optionalString("layout") || "pointer";
  r.warnUnread();
  if (!url) return undefined;
  if (layout !== "legacy" && layout !== "pointer") {
    throw new ConfigError("backup.layout", `unknown layout: ${JSON.stringify(layout)}`);
  }
  let path = url;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  if (scheme) {
    if (scheme.toLowerCase() !== "file") {
      throw new ConfigError(
        "backup.go_cloud_url",
        `only file:// locations are supported, not ${JSON.stringify(scheme + "://")}`,
      );
    }
    try {
      path = decodeURIComponent(new URL(url).pathname);
    } catch {
      throw new ConfigError("backup.go_cloud_url", `not a valid URL: ${JSON.stringify(url)}`);
    }
  }
  return { sinkPath: isAbsolute(path) ? path : resolve(r.baseDir, path), layout };
}

function readTls(r: TableReader): Config["tls"] {
  const certificatePath = r.optionalPath("certificate_path");
  const keyPath = r.optionalPath("key_path");
  r.warnUnread();
  if (!certificatePath && !keyPath) return undefined;
  if (!certificatePath) throw new ConfigError("tls.certificate_path", "missing");
  if (!keyPath) throw new ConfigError("tls.key_path", "missing");
  return { certificatePath, keyPath };
}

function readStorages(r: TableReader): StorageConfig[] {
  const storages = r.tableArray("storage").map((s) => {
    const name = s.requiredString("name");
    const path = s.requiredPath("path");
    s.warnUnread();
    return { name, path };
  });
  if (storages.length === 0) {
    throw new ConfigError("storage", "at least one [[storage]] is required");
  }
  const seen = new Set<string>();
  for (const s of storages) {
    if (seen.has(s.name)) {
      throw new ConfigError("storage.name", `duplicate storage ${JSON.stringify(s.name)}`);
    }
    seen.add(s.name);
  }
  return storages;
}

function readAuth(r: TableReader): Config["auth"] {
  const auth = {
    token: r.optionalString("token") ?? "",
    transitioning: r.optionalBoolean("transitioning") ?? false,
  };
  r.warnUnread();
  return auth;
}

function readGit(r: TableReader): Config["git"] {
  const git = {
    binPath: r.optionalString("bin_path") ?? "git",
    catfileCacheSize: r.optionalInteger("catfile_cache_size") ?? DEFAULT_CATFILE_CACHE_SIZE,
    maxProcesses: r.optionalInteger("max_processes") ?? DEFAULT_MAX_PROCESSES,
    config: r.tableArray("config").map((c) => {
      const entry = { key: c.requiredString("key"), value: c.requiredString("value") };
      if (!/^[A-Za-z0-9-]+(\.[^=\s]+)*\.[A-Za-z][A-Za-z0-9-]*$/.test(entry.key)) {
        throw new ConfigError(
          `${c.prefix}key`,
          `invalid git config key ${JSON.stringify(entry.key)}`,
        );
      }
      c.warnUnread();
      return entry;
    }),
  };
  r.warnUnread();
  return git;
}

function readLogging(r: TableReader): Config["logging"] {
  const format = r.optionalString("format") ?? "text";
  if (format !== "json" && format !== "text") {
    throw new ConfigError(
      "logging.format",
      `must be "json" or "text", not ${JSON.stringify(format)}`,
    );
  }
  const level = (r.optionalString("level") ?? "info").toLowerCase();
  if (!["debug", "info", "warn", "warning", "error"].includes(level)) {
    throw new ConfigError("logging.level", `unknown level ${JSON.stringify(level)}`);
  }
  // Gitaly also accepts other keys (dir, sentry…); they are reported as unknown.
  r.warnUnread();
  return { format, level: (level === "warning" ? "warn" : level) as LogLevel };
}

/**
 * Reads typed values out of one TOML table, remembering which keys were
 * read so the rest can be reported as unknown.
 */
class TableReader {
  readonly warnings: string[];
  readonly #read = new Set<string>();

  constructor(
    readonly doc: Record<string, unknown>,
    readonly prefix: string,
    readonly baseDir: string,
    /** Gitaly's keys for this table; `undefined` where Gitaly has none. */
    readonly schema: KeySchema | undefined,
    warnings: string[] = [],
  ) {
    this.warnings = warnings;
  }

  table(key: string): TableReader {
    const value = this.#take(key);
    const prefix = `${this.prefix}${key}.`;
    const schema = this.#schemaOf(key);
    if (value === undefined) {
      return new TableReader({}, prefix, this.baseDir, schema, this.warnings);
    }
    if (!isTable(value)) throw new ConfigError(this.#name(key), "must be a table");
    return new TableReader(value, prefix, this.baseDir, schema, this.warnings);
  }

  tableArray(key: string): TableReader[] {
    const value = this.#take(key);
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(isTable)) {
      throw new ConfigError(
        this.#name(key),
        "must be an array of tables ([[" + this.#name(key) + "]])",
      );
    }
    return value.map((t, i) =>
      new TableReader(
        t as Record<string, unknown>,
        `${this.prefix}${key}[${i}].`,
        this.baseDir,
        this.#schemaOf(key),
        this.warnings,
      )
    );
  }

  optionalString(key: string): string | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw new ConfigError(this.#name(key), "must be a string");
    return value;
  }

  requiredString(key: string): string {
    const value = this.optionalString(key);
    if (!value) throw new ConfigError(this.#name(key), "is required");
    return value;
  }

  optionalStringArray(key: string): string[] | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      throw new ConfigError(this.#name(key), "must be an array of strings");
    }
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") throw new ConfigError(this.#name(key), "must be true or false");
    return value;
  }

  optionalInteger(key: string): number | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    const n = typeof value === "bigint" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new ConfigError(this.#name(key), "must be a non-negative integer");
    }
    return n;
  }

  optionalPath(key: string): string | undefined {
    const value = this.optionalString(key);
    if (value === undefined || value === "") return undefined;
    return isAbsolute(value) ? value : resolve(this.baseDir, value);
  }

  requiredPath(key: string): string {
    const value = this.optionalPath(key);
    if (!value) throw new ConfigError(this.#name(key), "is required");
    return value;
  }

  optionalAddress(key: string): string | undefined {
    const value = this.optionalString(key);
    if (value === undefined || value === "") return undefined;
    if (
      !/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/.test(value) ||
      Number(value.split(":").pop()) > 65535
    ) {
      throw new ConfigError(this.#name(key), `not a host:port address: ${JSON.stringify(value)}`);
    }
    return value;
  }

  /** Go-style durations ("90s", "1m30s", "500ms") or a number of seconds. */
  optionalDuration(key: string): number | undefined {
    const value = this.#take(key);
    if (value === undefined) return undefined;
    if (typeof value === "number" && value >= 0) return value * 1000;
    const ms = typeof value === "string" ? parseDuration(value) : undefined;
    if (ms === undefined) {
      throw new ConfigError(this.#name(key), `not a duration: ${JSON.stringify(value)}`);
    }
    return ms;
  }

  /**
   * Reports every key nobody read: Gitaly's own (a whole table once) as not
   * supported yet, anything else as unknown.
   */
  warnUnread(): void {
    for (const key of Object.keys(this.doc)) {
      if (this.#read.has(key)) continue;
      const gitalys = this.schema !== undefined && Object.hasOwn(this.schema, key);
      // Gitaly's keys are named without array indexes, so each is reported once.
      this.warnings.push(
        gitalys
          ? `config: ${this.#name(key).replace(/\[\d+\]/g, "")} is not supported yet; ignored`
          : `config: unknown key ${this.#name(key)} ignored`,
      );
    }
  }

  #schemaOf(key: string): KeySchema | undefined {
    const node = this.schema && Object.hasOwn(this.schema, key) ? this.schema[key] : undefined;
    return node === true ? undefined : node;
  }

  #take(key: string): unknown {
    this.#read.add(key);
    return this.doc[key];
  }

  #name(key: string): string {
    return `${this.prefix}${key}`;
  }
}

/**
 * smol-toml's parse errors as one line with the position: it throws a
 * `TomlError` with `line` and `column` (1-based) and a message whose first
 * line is the reason.
 */
function describeTomlError(error: unknown): string {
  const { message, line, column } = error as { message?: string; line?: number; column?: number };
  const reason = String(message ?? error).split("\n")[0].replace(/^Invalid TOML document: /, "");
  return line ? `line ${line}, column ${column}: ${reason}` : reason;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration string into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS[unit], 0);
}
