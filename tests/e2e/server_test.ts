import { startNtpResponder } from "../helpers/ntp.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { startTestServer } from "../helpers/server.ts";
import { codeOf, TestClient } from "../helpers/grpc.ts";
import { haveOpenssl, makeTestCertificates } from "../helpers/tls.ts";
import { dialSidechannel, healthCheck, SidechannelRegistry } from "../../src/client/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const HEALTH = "/grpc.health.v1.Health/Check";

Deno.test("listens on a Unix socket, TCP and TLS at once", async (t) => {
  const certDir = await Deno.makeTempDir();
  const tls = await haveOpenssl() ? await makeTestCertificates(certDir) : undefined;
  if (!tls) console.warn("openssl missing: TLS listener not tested");
  const server = await startTestServer({ tls });
  try {
    const targets: [string, string, grpc.ChannelCredentials?, grpc.ClientOptions?][] = [
      ["unix", server.unixAddress],
      ["tcp", server.tcpAddress],
    ];
    if (tls) {
      const creds = grpc.credentials.createSsl(Buffer.from(await Deno.readFile(tls.caPath)));
      targets.push(["tls", `localhost:${server.tlsAddress!.split(":").pop()}`, creds]);
    }
    for (const [name, address, creds, options] of targets) {
      await t.step(name, async () => {
        const client = new TestClient(address, creds, options);
        try {
          assertEquals((await client.unary(HEALTH, {})).status, 1);
        } finally {
          client.close();
        }
      });
    }
  } finally {
    await server.stop();
    await Deno.remove(certDir, { recursive: true });
  }
});

Deno.test("ServerService: info, disk statistics, readiness, clock sync against an NTP responder", async () => {
  const server = await startTestServer({ storages: ["default", "second"] });
  const client = new TestClient(server.unixAddress);
  try {
    const info = await client.unary<{
      server_version: string;
      git_version: string;
      storage_statuses: {
        storage_name: string;
        readable: boolean;
        writeable: boolean;
        filesystem_id: string;
      }[];
    }>("/gitaly.ServerService/ServerInfo", {});
    assertMatch(info.git_version, /^\d+\.\d+/);
    assertMatch(info.server_version, /^16\./);
    assertEquals(info.storage_statuses.map((s) => [s.storage_name, s.readable, s.writeable]), [
      ["default", true, true],
      ["second", true, true],
    ]);
    const again = await client.unary<typeof info>("/gitaly.ServerService/ServerInfo", {});
    assertEquals(again.storage_statuses[0].filesystem_id, info.storage_statuses[0].filesystem_id);
    assert(info.storage_statuses[0].filesystem_id.length > 0);

    const disk = await client.unary<{ storage_statuses: { available: number; used: number }[] }>(
      "/gitaly.ServerService/DiskStatistics",
      {},
    );
    assertEquals(disk.storage_statuses.length, 2);
    assert(disk.storage_statuses[0].available > 0);

    const ready = await client.unary<{ ok_response?: unknown }>(
      "/gitaly.ServerService/ReadinessCheck",
      {},
    );
    assert(ready.ok_response, JSON.stringify(ready));
    const ntp = await startNtpResponder({ offsetMs: 3 });
    try {
      const clock = await client.unary<{ synced?: boolean }>("/gitaly.ServerService/ClockSynced", {
        ntp_host: ntp.host,
        drift_threshold: { seconds: 1 },
      });
      assertEquals(clock.synced, true);
    } finally {
      await ntp.close();
    }
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("metrics and one log line per RPC", async () => {
  const server = await startTestServer();
  const client = new TestClient(server.unixAddress);
  const tcpClient = new TestClient(server.tcpAddress);
  const registry = new SidechannelRegistry();
  const multiplexed = dialSidechannel(server.unixAddress, registry);
  try {
    const repository = { storage_name: "default", relative_path: "nope.git" };
    await client.unary("/gitaly.RepositoryService/RepositoryExists", { repository }, {
      metadata: { "x-gitlab-correlation-id": "corr-123", client_name: "tester" },
    });
    await codeOf(client.unary("/gitaly.RepositoryService/RepositorySize", { repository }));
    await client.unary("/gitaly.RepositoryService/CreateRepository", {
      repository: { storage_name: "default", relative_path: "created.git" },
    });
    await tcpClient.unary("/gitaly.ServerService/ServerInfo", {});
    await healthCheck(multiplexed);
    const metrics = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
    assertMatch(
      metrics,
      /grpc_server_handled_total\{[^}]*grpc_method="RepositoryExists"[^}]*grpc_code="OK"[^}]*\} 1/,
    );
    assertMatch(
      metrics,
      /grpc_server_handled_total\{[^}]*grpc_method="RepositorySize"[^}]*grpc_code="NotFound"[^}]*\} 1/,
    );
    assertMatch(
      metrics,
      /grpc_server_handling_seconds_bucket\{[^}]*grpc_method="RepositoryExists"/,
    );
    assertMatch(metrics, /gitaly_commands_running/);
    const exists = 'grpc_service="gitaly.RepositoryService",grpc_method="RepositoryExists"';
    assertMatch(metrics, new RegExp(`grpc_server_msg_received_total\\{[^}]*${exists}\\} 1`));
    assertMatch(metrics, new RegExp(`grpc_server_msg_sent_total\\{[^}]*${exists}\\} 1`));
    // A failed unary call received its request but sent nothing.
    assert(!/grpc_server_msg_sent_total\{[^}]*"RepositorySize"/.test(metrics), metrics);
    // git processes, labelled with the RPC they ran for, as Gitaly does.
    assertMatch(
      metrics,
      /gitaly_command_real_seconds_total\{cmd="git",subcmd="init",grpc_service="gitaly.RepositoryService",grpc_method="CreateRepository",git_version="\d+\.\d+[^"]*"\} \d/,
    );
  } finally {
    client.close();
    tcpClient.close();
    multiplexed.close();
    await server.stop();
  }
  const lines = server.stderr().split("\n").filter((l) => l.includes('"grpc.method"')).map((l) =>
    JSON.parse(l)
  );
  const exists = lines.find((l) => l["grpc.method"] === "RepositoryExists");
  assertEquals(exists["grpc.code"], "OK");
  assertEquals(exists.correlation_id, "corr-123");
  assertEquals(exists["grpc.service"], "gitaly.RepositoryService");
  assert(typeof exists["grpc.time_ms"] === "number");
  // A Unix-socket client is "@" (as Go prints it), plain or multiplexed; TCP is host:port.
  assertEquals(exists["peer.address"], "@");
  const peerOf = (method: string) => lines.find((l) => l["grpc.method"] === method)["peer.address"];
  assertEquals(peerOf("Check"), "@");
  assertMatch(peerOf("ServerInfo"), /^127\.0\.0\.1:\d+$/);
  assertEquals(lines.find((l) => l["grpc.method"] === "RepositorySize")["grpc.code"], "NotFound");
});

async function runServe(config: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "config.toml");
    await Deno.mkdir(join(dir, "repos"));
    await Deno.writeTextFile(path, config);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve", "--config", path],
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config errors refuse to start and name the key", async () => {
  const storage = `[[storage]]\nname = "default"\npath = "repos"\n`;
  const cases: [string, string, RegExp][] = [
    ["bad address", `listen_addr = "nonsense"\n${storage}`, /listen_addr/],
    [
      "bad log format",
      `listen_addr = "127.0.0.1:0"\n${storage}[logging]\nformat = "xml"\n`,
      /logging\.format/,
    ],
    ["no storage", `listen_addr = "127.0.0.1:0"\n`, /storage/],
    [
      "missing storage dir",
      `listen_addr = "127.0.0.1:0"\n[[storage]]\nname = "x"\npath = "missing"\n`,
      /storage\[0\]\.path/,
    ],
    [
      "bad duration",
      `listen_addr = "127.0.0.1:0"\ngraceful_restart_timeout = "soon"\n${storage}`,
      /graceful_restart_timeout/,
    ],
    ["bad toml", `listen_addr = `, /^config: toml: line 1, column \d+: [^\n]+\n$/],
    ["tls without cert", `tls_listen_addr = "127.0.0.1:0"\n${storage}`, /tls/],
  ];
  for (const [name, config, key] of cases) {
    const { code, stderr } = await runServe(config);
    assertEquals(code, 1, name);
    assertMatch(stderr, key, name);
  }
});

Deno.test("unknown and not-yet-supported config keys are warned about before serving", async () => {
  const server = await startTestServer({
    extraToml: [
      `bogus_key = 1`,
      `[git]`,
      `bin_path = "git"`,
      `shiny = true`,
      `[gitlab-shell]`,
      `dir = "/opt/gitlab-shell"`,
      `[cgroups]`,
      `mountpoint = "/sys/fs/cgroup"`,
    ].join("\n"),
  });
  await server.stop();
  const log = server.stderr();
  assertMatch(log, /unknown key ([a-z_]+\.)?bogus_key/);
  assertMatch(log, /unknown key git\.shiny/);
  for (const key of ["gitlab-shell", "cgroups"]) {
    const warning = `config: ${key} is not supported yet; ignored`;
    assertEquals(log.split(warning).length - 1, 1, `${key} warned once:\n${log}`);
    assert(log.indexOf(warning) < log.indexOf("server started"), `before serving:\n${log}`);
  }
});

Deno.test("an unreadable [gitlab] secret_file refuses to start and says why", async () => {
  const error = await startTestServer({
    extraToml:
      `[gitlab]\nurl = "http+unix:///run/gitlab.socket"\nsecret_file = "/nonexistent/secret"`,
  }).then(() => undefined, (e: Error) => e);
  assert(error, "the server must not start");
  assertMatch(
    error.message,
    /error: GitLab API client: reading secret file: .*\/nonexistent\/secret/,
  );
});

Deno.test("unknown subcommand or flag: usage on stderr, exit 2", async () => {
  for (const args of [["frobnicate"], ["serve", "--bogus"], []]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      stderr: "piped",
    })
      .output();
    assertEquals(out.code, 2, args.join(" "));
    assertMatch(new TextDecoder().decode(out.stderr), /Usage:/);
  }
  const version = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", MAIN, "version"] })
    .output();
  assertEquals(version.code, 0);
});
