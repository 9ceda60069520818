/**
 * Holds the server to Gitaly's own Go client: builds tests/interop/client
 * (which dials with `client.Dial` and `gitalyauth.RPCCredentialsV2` from
 * gitlab.com/gitlab-org/gitaly/v16) and runs its scenarios over the Unix
 * socket and over TCP. Skips when `go` is not on PATH.
 *
 * @module
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { GO, goBinary } from "../helpers/go.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const TOKEN = "interop-secret";

/** One JSON line printed by the Go client. */
interface StepLine {
  scenario: string;
  step: string;
  ok: boolean;
  code: string;
  message?: string;
  detail?: Record<string, unknown>;
  problem?: string;
}

/** Steps each scenario must report, in order, all with `ok: true`. */
const EXPECTED_STEPS: Record<string, string[]> = {
  lifecycle: ["health", "server_info", ...repositorySteps("sha1"), ...repositorySteps("sha256")],
  errors: [
    "unknown_storage",
    "repository_not_set",
    "size_of_missing_repository",
    "remove_missing_repository",
    "exists_path_escapes_storage",
    "create_path_escapes_storage",
    "scratch_create",
    "write_ref_short_ref",
    "scratch_remove",
    "backup_repository_not_configured",
    "unknown_method",
  ],
  auth: ["right_token", "wrong_token", "no_credentials", "stale_token", "malformed_token"]
    .flatMap((label) => [`${label}.health`, `${label}.repository_exists`]),
};

function repositorySteps(label: string): string[] {
  return [
    "create",
    "exists",
    "object_format",
    "has_local_branches",
    "size",
    "object_directory_size",
    "info",
    "head_on_disk",
    "write_ref_head",
    "head_on_disk_after_write_ref",
    "create_again",
    "remove",
    "exists_after_remove",
  ].map((step) => `${label}.${step}`);
}

Deno.test({
  name: "Gitaly's Go client works against the server over unix and tcp",
  ignore: GO === undefined,
  async fn(t) {
    const binary = await goBinary("client");
    const server = await startTestServer({ token: TOKEN });
    try {
      const addresses = { unix: server.unixAddress, tcp: `tcp://${server.tcpAddress}` };
      for (const [transport, address] of Object.entries(addresses)) {
        for (const scenario of Object.keys(EXPECTED_STEPS)) {
          await t.step(`${scenario} over ${transport}`, async () => {
            await runScenario(binary, server, address, scenario);
          });
        }
      }
    } finally {
      await server.stop();
    }
  },
});

if (GO === undefined) {
  console.warn("gitaly_client_test: `go` is not on PATH; skipping the Go client interop test");
}

/** Runs one scenario and checks its exit code and every line it printed. */
async function runScenario(binary: string, server: TestServer, address: string, scenario: string) {
  const output = await new Deno.Command(binary, {
    args: [
      "-address",
      address,
      "-token",
      TOKEN,
      "-storage",
      "default",
      "-storage-path",
      server.storagePaths.default,
      scenario,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const lines = parseLines(stdout);
  const failed = lines.filter((line) => !line.ok);
  const context = `${scenario} on ${address}\n${stdout}${new TextDecoder().decode(output.stderr)}` +
    (failed.length ? `\nserver log:\n${server.stderr()}` : "");

  assertEquals(failed, [], context);
  assertEquals(lines.map((line) => line.step), EXPECTED_STEPS[scenario], context);
  assert(lines.every((line) => line.scenario === scenario), context);
  assertEquals(output.code, 0, context);
}

function parseLines(stdout: string): StepLine[] {
  return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}
