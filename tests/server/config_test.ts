import { assert, assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import {
  ConfigError,
  DEFAULT_CONFIG_TOML,
  parseConfig,
  parseDuration,
} from "../../src/server/config.ts";

Deno.test("config: every supported key is read, relative paths resolve against the file's folder", () => {
  const { config, warnings } = parseConfig(
    `
socket_path = "run/gitaly.socket"
listen_addr = "127.0.0.1:9999"
tls_listen_addr = "[::1]:9998"
prometheus_listen_addr = ":9236"
graceful_restart_timeout = "1m30s"
[tls]
certificate_path = "/etc/cert.pem"
key_path = "key.pem"
[[storage]]
name = "default"
path = "/srv/repos"
[[storage]]
name = "second"
path = "repos2"
[auth]
token = "secret"
transitioning = true
[git]
bin_path = "/usr/bin/git"
catfile_cache_size = 7
[[git.config]]
key = "core.fsync"
value = "objects"
[logging]
format = "json"
level = "warning"
[hooks]
custom_hooks_dir = "hooks"
`,
    "/etc/gitaly",
  );
  assertEquals(warnings, []);
  assertEquals(config.socketPath, "/etc/gitaly/run/gitaly.socket");
  assertEquals(config.tlsListenAddr, "[::1]:9998");
  assertEquals(config.tls, { certificatePath: "/etc/cert.pem", keyPath: "/etc/gitaly/key.pem" });
  assertEquals(config.storages, [{ name: "default", path: "/srv/repos" }, {
    name: "second",
    path: "/etc/gitaly/repos2",
  }]);
  assertEquals(config.auth, { token: "secret", transitioning: true });
  assertEquals(config.git, {
    binPath: "/usr/bin/git",
    catfileCacheSize: 7,
    maxProcesses: 512,
    config: [{ key: "core.fsync", value: "objects" }],
  });
  assertEquals(config.logging, { format: "json", level: "warn" });
  assertEquals(config.gracefulRestartTimeoutMs, 90_000);
  assertEquals(config.hooks.customHooksDir, "/etc/gitaly/hooks");
});

Deno.test("config: the embedded default parses cleanly", () => {
  const { config, warnings } = parseConfig(DEFAULT_CONFIG_TOML, "/work");
  assertEquals(warnings, []);
  assertEquals(config.storages, [{ name: "default", path: "/work/data/repositories" }]);
  assertEquals(config.listenAddr, "127.0.0.1:9999");
  assertEquals(config.socketPath, "/work/data/gitaly.socket");
});

Deno.test("config: bad values name their key", () => {
  const storage = `[[storage]]\nname = "s"\npath = "/x"\n`;
  const cases: [string, RegExp][] = [
    [`listen_addr = 5\n${storage}`, /listen_addr: must be a string/],
    [`listen_addr = "host:99999"\n${storage}`, /listen_addr/],
    [`listen_addr = ":1"\n${storage}${storage}`, /storage\.name: duplicate/],
    [`listen_addr = ":1"\n[[storage]]\nname = "s"\n`, /storage\[0\]\.path: is required/],
    [`listen_addr = ":1"\n${storage}[auth]\ntransitioning = "yes"\n`, /auth\.transitioning/],
    [
      `listen_addr = ":1"\n${storage}[[git.config]]\nkey = "bad key"\nvalue = "v"\n`,
      /git\.config\[0\]\.key/,
    ],
    [`listen_addr = ":1"\n${storage}[git]\ncatfile_cache_size = -1\n`, /git\.catfile_cache_size/],
    [`listen_addr = ":1"\n${storage}[logging]\nlevel = "loud"\n`, /logging\.level/],
    [`${storage}`, /listen_addr: set at least one/],
    [`listen_addr = ":1"\n${storage}[tls]\ncertificate_path = "/c"\n`, /tls\.key_path/],
  ];
  for (const [text, message] of cases) assertMatch(configErrorOf(text), message);
});

/** The message of the ConfigError parsing `text` throws. */
function configErrorOf(text: string): string {
  try {
    parseConfig(text, "/");
  } catch (error) {
    assert(error instanceof ConfigError, `${text}: ${error}`);
    return error.message;
  }
  throw new Error(`${text} should fail`);
}

Deno.test("config: unknown keys are warnings, at any depth", () => {
  const { warnings } = parseConfig(
    `listen_addr = ":1"\nbogus = 1\n[[storage]]\nname = "s"\npath = "/x"\nextra = 1\n[logging]\nnoise = "/log"\n[auth]\ntokn = "x"\n`,
    "/",
  );
  assertEquals(warnings, [
    "config: unknown key storage[0].extra ignored",
    "config: unknown key auth.tokn ignored",
    "config: unknown key logging.noise ignored",
    "config: unknown key bogus ignored",
  ]);
});

Deno.test("config: [pack_objects_cache] with Gitaly's defaults, bad values refused", () => {
  const base = [`listen_addr = ":1"`, `[[storage]]`, `name = "s"`, `path = "/x"`];
  const read = (lines: string[]) => parseConfig([...base, ...lines].join("\n"), "/").config;
  assertEquals(read([]).packObjectsCache, {
    enabled: false,
    dir: "/x/+gitaly/PackObjectsCache",
    maxAgeMs: 300_000,
    minOccurrences: 1,
  });
  assertEquals(
    read([
      `[pack_objects_cache]`,
      `enabled = true`,
      `dir = "/c"`,
      `max_age = "10m"`,
      `min_occurrences = 2`,
    ])
      .packObjectsCache,
    { enabled: true, dir: "/c", maxAgeMs: 600_000, minOccurrences: 2 },
  );
  assertThrows(() => read([`[pack_objects_cache]`, `max_age = "0s"`]), ConfigError);
});

Deno.test("config: Gitaly's own keys we do not support yet are named as such, once each", () => {
  const { warnings } = parseConfig(
    [
      `listen_addr = ":1"`,
      `bin_dir = "/opt/gitaly/bin"`,
      `runtime_dir = "/run/gitaly"`,
      `[[storage]]`,
      `name = "s"`,
      `path = "/x"`,
      `[git]`,
      `signing_key = "/k"`,
      `[logging]`,
      `dir = "/log"`,
      `[gitlab]`,
      `url = "http://localhost"`,
      `secret_file = "/s"`,
      `[gitlab.http-settings]`,
      `read_timeout = 5`,
      `[hooks]`,
      `custom_hooks_dir = "/hooks"`,
      `[[concurrency]]`,
      `rpc = "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel"`,
      `max_per_repo = 20`,
      `[[concurrency]]`,
      `rpc = "/gitaly.SSHService/SSHUploadPackWithSidechannel"`,
      `[pack_objects_cache]`,
      `enabled = true`,
      `[daily_maintenance]`,
      `disabled = true`,
      `[prometheus]`,
      `grpc_latency_buckets = [0.1, 1.0]`,
      `[gitlab-shell]`,
      `dir = "/shell"`,
    ].join("\n"),
    "/",
  );
  assertEquals(warnings, [
    "config: git.signing_key is not supported yet; ignored",
    "config: logging.dir is not supported yet; ignored",
    "config: bin_dir is not supported yet; ignored",
    "config: prometheus is not supported yet; ignored",
    "config: gitlab-shell is not supported yet; ignored",
  ]);
});

Deno.test("config: malformed TOML names the line and column", () => {
  const cases: [string, RegExp][] = [
    [`listen_addr = ":1"\nsocket_path = \n`, /^config: toml: line 2, column \d+: \S/],
    [`[storage\nname = "s"\n`, /^config: toml: line 1, column \d+: \S/],
    [`a = 1\na = 2\n`, /^config: toml: line 2, column 1: .*redefine/],
  ];
  for (const [text, message] of cases) {
    const error = configErrorOf(text);
    assertMatch(error, message);
    assert(!error.includes("\n"), "one line");
  }
});

Deno.test("parseDuration: Go duration strings", () => {
  assertEquals(parseDuration("1m"), 60_000);
  assertEquals(parseDuration("1h2m3s"), 3_723_000);
  assertEquals(parseDuration("250ms"), 250);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("0"), 0);
  assertEquals(parseDuration("soon"), undefined);
  assertEquals(parseDuration("1m junk"), undefined);
});

Deno.test("config: [gitlab] and runtime_dir are read; a bad url or a missing secret refuses", () => {
  const base = `socket_path = "/s"\nruntime_dir = "run"\n[[storage]]\nname = "s"\npath = "/x"\n`;
  const { config, warnings } = parseConfig(
    base +
      `[gitlab]\nurl = "http+unix://%2Frun%2Fgitlab.socket"\nrelative_url_root = "/gitlab"\n` +
      `secret_file = "secret"\n[gitlab.http-settings]\nread_timeout = 5\nuser = "u"\n` +
      `password = "p"\nca_file = "/ca.pem"\nca_path = "/certs"\n`,
    "/etc/gitaly",
  );
  assertEquals(warnings, []);
  assertEquals(config.runtimeDir, "/etc/gitaly/run");
  assertEquals(config.gitlab, {
    url: "http+unix://%2Frun%2Fgitlab.socket",
    relativeUrlRoot: "/gitlab",
    secret: undefined,
    secretFile: "/etc/gitaly/secret",
    httpSettings: { readTimeout: 5, user: "u", password: "p", caFile: "/ca.pem", caPath: "/certs" },
  });
  assertEquals(parseConfig(base, "/").config.gitlab, undefined);
  assertEquals(
    parseConfig(base + `[gitlab]\nurl = "https://gl"\nsecret = "s"\n`, "/").config.gitlab?.secret,
    "s",
  );
  assertThrows(
    () => parseConfig(base + `[gitlab]\nurl = "ftp://gl"\nsecret = "s"\n`, "/"),
    (e) => e instanceof ConfigError && e.key === "gitlab.url",
  );
  assertThrows(
    () => parseConfig(base + `[gitlab]\nurl = "http://gl"\n`, "/"),
    (e) => e instanceof ConfigError && e.key === "gitlab.secret_file",
  );
});

Deno.test("config: [[concurrency]], [pack_objects_limiting] and [[rate_limiting]] are read", () => {
  const { config, warnings } = parseConfig(
    [
      `socket_path = "/s"`,
      `[[storage]]`,
      `name = "s"`,
      `path = "/x"`,
      `[[concurrency]]`,
      `rpc = "/gitaly.SSHService/SSHUploadPack"`,
      `max_per_repo = 2`,
      `max_queue_size = 10`,
      `max_queue_wait = "1m"`,
      `[[concurrency]]`,
      `rpc = "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel"`,
      `adaptive = true`,
      `min_limit = 1`,
      `initial_limit = 5`,
      `max_limit = 20`,
      `max_queue_size = 100`,
      `[pack_objects_limiting]`,
      `key = "user"`,
      `max_concurrency = 4`,
      `max_queue_length = 50`,
      `max_queue_wait = "30s"`,
      `[[rate_limiting]]`,
      `rpc = "/gitaly.RepositoryService/OptimizeRepository"`,
      `interval = "1m"`,
      `burst = 1`,
    ].join("\n"),
    "/",
  );
  assertEquals(warnings, []);
  assertEquals(config.limits, {
    concurrency: [
      {
        rpc: "/gitaly.SSHService/SSHUploadPack",
        maxPerRepo: 2,
        maxQueueSize: 10,
        maxQueueWaitMs: 60_000,
      },
      {
        rpc: "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel",
        maxPerRepo: 0,
        maxQueueSize: 100,
        maxQueueWaitMs: 0,
        adaptive: { initial: 5, min: 1, max: 20 },
      },
    ],
    packObjects: { key: "user", maxConcurrency: 4, maxQueueLength: 50, maxQueueWaitMs: 30_000 },
    rateLimiting: [{
      rpc: "/gitaly.RepositoryService/OptimizeRepository",
      intervalMs: 60_000,
      burst: 1,
    }],
  });
});

Deno.test("config: bad limits name their key", () => {
  const base = `socket_path = "/s"\n[[storage]]\nname = "s"\npath = "/x"\n`;
  const cases: [string, RegExp][] = [
    [`[[concurrency]]\nmax_per_repo = 1`, /^config: concurrency\[0\]\.rpc: is required$/],
    [
      `[[concurrency]]\nrpc = "SSHUploadPack"`,
      /^config: concurrency\[0\]\.rpc: must be a full method/,
    ],
    [
      `[[concurrency]]\nrpc = "/a.B/C"\nmax_per_repo = -1`,
      /concurrency\[0\]\.max_per_repo: must be/,
    ],
    [
      `[[concurrency]]\nrpc = "/a.B/C"\nadaptive = true\nmin_limit = 0`,
      /^config: concurrency\[0\]\.min_limit: must be greater than 0$/,
    ],
    [
      `[[concurrency]]\nrpc = "/a.B/C"\nadaptive = true\nmin_limit = 2\ninitial_limit = 1`,
      /^config: concurrency\[0\]\.initial_limit: must be at least min_limit$/,
    ],
    [
      `[[concurrency]]\nrpc = "/a.B/C"\nadaptive = true\nmin_limit = 1\ninitial_limit = 3\nmax_limit = 2`,
      /^config: concurrency\[0\]\.max_limit: must be at least initial_limit$/,
    ],
    [`[pack_objects_limiting]\nkey = "ip"`, /^config: pack_objects_limiting\.key: unsupported/],
    [
      `[[rate_limiting]]\nrpc = "/a.B/C"\ninterval = "soon"`,
      /rate_limiting\[0\]\.interval: not a duration/,
    ],
  ];
  for (const [text, message] of cases) assertMatch(configErrorOf(base + text), message);
});

Deno.test("config: [backup] takes a file:// URL or a path, and Gitaly's layouts", () => {
  const base = `socket_path = "/s"\n[[storage]]\nname = "s"\npath = "/x"\n[backup]\n`;
  const backup = (toml: string) => parseConfig(base + toml, "/etc/gitaly").config.backup;
  assertEquals(backup(""), undefined);
  assertEquals(backup(`go_cloud_url = "file:///var/backups/a%20b"`), {
    sinkPath: "/var/backups/a b",
    layout: "pointer",
  });
  assertEquals(backup(`go_cloud_url = "sink"\nlayout = "legacy"`), {
    sinkPath: "/etc/gitaly/sink",
    layout: "legacy",
  });
  assertEquals(
    configErrorOf(base + `go_cloud_url = "/b"\nlayout = "manifest"`),
    'config: backup.layout: unknown layout: "manifest"',
  );
  assertEquals(
    configErrorOf(base + `go_cloud_url = "s3://bucket"`),
    'config: backup.go_cloud_url: only file:// locations are supported, not "s3://"',
  );
});
