/**
 * The `client` subcommand as operators run it (`main.ts client …` in a
 * subprocess): every streaming kind through `call`, `health`, `repo`,
 * errors as `Code: message`, and usage errors.
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { createRepo, gitOk } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { fakeGitalyServices, fixedHealth, startFakeServer } from "../client/fake_server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const TOKEN = "cli-secret";
const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as JSON lines. */
  json: Record<string, unknown>[];
}

/** Runs `main.ts client args…` with `env` and `stdin`. */
async function client(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "client", ...args],
    env: options.env ?? {},
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin ?? "")).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const stdout = decoder.decode(out.stdout);
  const json = stdout.split("\n").filter(Boolean).map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return { line };
    }
  });
  return { code: out.code, stdout, stderr: decoder.decode(out.stderr), json };
}

async function withServer(
  body: (server: TestServer, env: Record<string, string>) => Promise<void>,
) {
  const server = await startTestServer({ token: TOKEN });
  try {
    await createRepo(join(server.storagePaths.default, "repo.git"), { commits: 2 });
    await body(server, { GITALY_ADDRESS: server.unixAddress, GITALY_TOKEN: TOKEN });
  } finally {
    await server.stop();
  }
}

const REPO = `{"repository":{"storageName":"default","relativePath":"repo.git"}}`;

Deno.test("client call: unary and server streaming, JSON lines out", async () => {
  await withServer(async (server, env) => {
    const exists = await client(["call", "RepositoryService/RepositoryExists", REPO], { env });
    assertEquals([exists.code, exists.json], [0, [{ exists: true }]], exists.stderr);
    // Flags instead of the environment; full service names; snake_case JSON.
    const flags = await client([
      "--address",
      `tcp://${server.tcpAddress}`,
      "--token",
      TOKEN,
      "call",
      "/gitaly.RepositoryService/RepositoryExists",
      `{"repository":{"storage_name":"default","relative_path":"missing.git"}}`,
    ]);
    assertEquals([flags.code, flags.json], [0, [{}]], flags.stderr); // false is a default: omitted

    const config = await client(["call", "RepositoryService/GetConfig", REPO], { env });
    assertEquals(config.code, 0, config.stderr);
    const text = config.json.map((r) => atob(r.data as string)).join("");
    assertMatch(text, /\[core\]/);
  });
});

Deno.test("client call: bidi streaming reads request lines from stdin", async () => {
  await withServer(async (_server, env) => {
    // upload-pack: advertise refs, then a flush packet from us ends the conversation.
    const stdin = `${REPO}\n{"stdin":"${btoa("0000")}"}\n`;
    const run = await client(["call", "SSHService/SSHUploadPack"], { env, stdin });
    assertEquals(run.code, 0, run.stderr);
    const stdout = run.json.map((r) => atob((r.stdout as string) ?? "")).join("");
    assertMatch(stdout, /refs\/heads\/main/);
  });
  const fake = await startFakeServer(fakeGitalyServices());
  try {
    const env = { GITALY_ADDRESS: fake.address };
    const lines = [`{"revisions":["${btoa("yes-a")}","${btoa("no")}"]}`, `{"revisions":[]}`];
    const run = await client(["call", "CommitService/CheckObjectsExist"], {
      env,
      stdin: lines.join("\n") + "\n",
    });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(run.json, [
      { revisions: [{ name: btoa("yes-a"), exists: true }, { name: btoa("no") }] },
      {},
    ]);
  } finally {
    await fake.close();
  }
});

Deno.test("client call: client streaming sends every line, prints the one response", async () => {
  const fake = await startFakeServer(fakeGitalyServices());
  try {
    const env = { GITALY_ADDRESS: fake.address };
    const first = `{"revisions":["${btoa("abc")}"]}`;
    const stdin = `{"revisions":["${btoa("de")}"]}\n\n{"revisions":["${btoa("f")}"]}`;
    const run = await client(["call", "RepositoryService/ObjectsSize", first], { env, stdin });
    assertEquals([run.code, run.json], [0, [{ size: "6" }]], run.stderr);

    const bad = await client(["call", "RepositoryService/ObjectsSize"], {
      env,
      stdin: `{"revisions":[]}\n{"nope":1}\n`,
    });
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(bad.stderr, /unknown field "nope"/);
  } finally {
    await fake.close();
  }
});

Deno.test("client health and repo commands", async () => {
  await withServer(async (server, env) => {
    const health = await client(["health"], { env });
    assertEquals([health.code, health.stdout], [0, "SERVING\n"]);
    assertEquals((await client(["repo", "exists", "new.git"], { env })).stdout, "false\n");
    assertEquals((await client(["repo", "create", "new.git"], { env })).code, 0);
    assertEquals((await client(["repo", "exists", "new.git"], { env })).stdout, "true\n");
    const size = await client(["repo", "size", "repo.git"], { env });
    assertEquals(size.code, 0, size.stderr);
    assert(Number(size.stdout) > 0, size.stdout);
    assertEquals((await client(["repo", "remove", "new.git"], { env })).code, 0);
    // HEAD: main by default, or the branch asked for.
    const headOf = (path: string) =>
      gitOk(["--git-dir", join(server.storagePaths.default, path), "symbolic-ref", "HEAD"]);
    assertEquals((await client(["repo", "create", "main.git"], { env })).code, 0);
    assertEquals(await headOf("main.git"), "refs/heads/main");
    const trunk = await client(["repo", "create", "--default-branch", "trunk", "trunk.git"], {
      env,
    });
    assertEquals(trunk.code, 0, trunk.stderr);
    assertEquals(await headOf("trunk.git"), "refs/heads/trunk");
    // Gitaly's own folder is no place for a repository.
    const internal = await client(["repo", "create", "+gitaly/x.git"], { env });
    assertEquals(internal.code, 1);
    assertMatch(
      internal.stderr,
      /^InvalidArgument: relative path is inside the reserved directory/,
    );
    const other = await client(["--storage", "nope", "repo", "exists", "new.git"], { env });
    assertEquals(other.code, 1);
    assertMatch(other.stderr, /^InvalidArgument: /);
    assert(!(await Deno.stat(join(server.storagePaths.default, "new.git")).catch(() => null)));
  });
  const fake = await startFakeServer({ "grpc.health.v1.Health": fixedHealth(2) });
  try {
    const run = await client(["health"], { env: { GITALY_ADDRESS: fake.address } });
    assertEquals([run.code, run.stdout], [1, "NOT_SERVING\n"]);
  } finally {
    await fake.close();
  }
});

Deno.test("client: failed calls print `Code: message` and exit 1", async () => {
  await withServer(async (server, env) => {
    const missing = `{"repository":{"storageName":"default","relativePath":"missing.git"}}`;
    const notFound = await client(["call", "RepositoryService/RepositorySize", missing], { env });
    assertEquals(notFound.code, 1);
    assertMatch(notFound.stderr, /^NotFound: .+\n$/);
    const denied = await client(["--token", "wrong", "health"], { env });
    assertEquals(denied.code, 1);
    assertEquals(denied.stderr, "PermissionDenied: permission denied\n");
    const unimplemented = await client(["call", "PraefectInfoService/RepositoryReplicas", REPO], {
      env,
    });
    assertEquals(unimplemented.code, 1);
    assertMatch(unimplemented.stderr, /^Unimplemented: /);
    const down = await client(["health"], { env: { GITALY_ADDRESS: `${server.unixAddress}.x` } });
    assertEquals(down.code, 1);
    assertMatch(down.stderr, /^Unavailable: .*ENOENT/);
  });
});

Deno.test("client: usage errors exit 2", async () => {
  const env = { GITALY_ADDRESS: "unix:/nonexistent.socket" };
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [["frobnicate"], /unknown client command/],
    [["call"], /SERVICE\/METHOD/],
    [["repo", "move", "a.git"], /repo takes one of/],
    [["repo", "exists", "--default-branch", "x", "a.git"], /--default-branch is for repo create/],
    [["--bogus", "health"], /bogus/],
  ];
  for (const [args, message] of cases) {
    const run = await client(args, { env });
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assertMatch(run.stderr, message);
    assertMatch(run.stderr, /Usage: deno-gitaly client/);
  }
  // A bad value in a well-formed command: one line, no usage after it.
  const badValues: [string[], Record<string, string>, RegExp][] = [
    [
      ["call", "RepositoryService/Nope"],
      env,
      /^error: unknown method \/gitaly\.RepositoryService\/Nope\n$/,
    ],
    [
      ["call", "RepositoryService/RepositoryExists", "{not json"],
      env,
      /^error: bad RepositoryExistsRequest: invalid JSON: [^\n]*\n$/,
    ],
    [["--address", "foo://x", "health"], env, /^error: invalid connection string: [^\n]*\n$/],
    [["--timeout", "soon", "health"], env, /^error: --timeout [^\n]*\n$/],
    [["health"], {}, /^error: no address: [^\n]*GITALY_ADDRESS\n$/],
  ];
  for (const [args, environment, message] of badValues) {
    const run = await client(args, { env: environment });
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assertMatch(run.stderr, message);
  }
  const help = await client(["--help"]);
  assertEquals(help.code, 0);
  assertMatch(help.stdout, /repo create PATH/);
});
