import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
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
  for (const [text, message] of cases) {
    let error: unknown;
    try {
      parseConfig(text, "/");
    } catch (err) {
      error = err;
    }
    assert(error instanceof ConfigError, `${text} should fail`);
    assertMatch((error as Error).message, message);
  }
});

Deno.test("config: unknown keys are warnings, at any depth", () => {
  const { warnings } = parseConfig(
    `listen_addr = ":1"\nbin_dir = "/x"\n[[storage]]\nname = "s"\npath = "/x"\nextra = 1\n[logging]\ndir = "/log"\n`,
    "/",
  );
  assertEquals(warnings, [
    "config: unknown key storage[0].extra ignored",
    "config: unknown key logging.dir ignored",
    "config: unknown key bin_dir ignored",
  ]);
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
