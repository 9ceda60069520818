/**
 * Holds the server to Gitaly's own Go client: builds tests/interop/client
 * (which dials with `client.Dial` and `gitalyauth.RPCCredentialsV2` from
 * gitlab.com/gitlab-org/gitaly/v16) and runs its scenarios over the Unix
 * socket and over TCP. Skips when `go` is not on PATH.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const CLIENT_DIR = new URL("./client/", import.meta.url).pathname;
const BIN_DIR = new URL("./bin/", import.meta.url).pathname;
const TOKEN = "interop-secret";
const GO = findOnPath("go");

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
    "unimplemented_find_merge_base",
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
    const binary = await buildClient(GO!);
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

  assert.deepEqual(failed, [], context);
  assert.deepEqual(lines.map((line) => line.step), EXPECTED_STEPS[scenario], context);
  assert.ok(lines.every((line) => line.scenario === scenario), context);
  assert.equal(output.code, 0, context);
}

function parseLines(stdout: string): StepLine[] {
  return stdout.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

/**
 * Builds the Go client into tests/interop/bin/, named by a hash of its
 * sources so an unchanged client is built once and reused.
 */
async function buildClient(go: string): Promise<string> {
  const binary = join(BIN_DIR, `gitaly-client-${await sourceHash()}`);
  if (await exists(binary)) return binary;
  await Deno.mkdir(BIN_DIR, { recursive: true });
  // Build under a unique name and rename, so parallel runs never see half a file.
  const partial = `${binary}.${crypto.randomUUID()}.tmp`;
  const output = await new Deno.Command(go, {
    // -mod=readonly: a go.sum that does not match go.mod is an error, never an edit.
    args: ["build", "-mod=readonly", "-buildvcs=false", "-trimpath", "-o", partial, "."],
    cwd: CLIENT_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    await Deno.remove(partial).catch(() => {});
    throw new Error(`go build failed:\n${new TextDecoder().decode(output.stderr)}`);
  }
  await Deno.rename(partial, binary);
  await removeOtherBuilds(binary);
  return binary;
}

/** Deletes binaries built from earlier versions of the sources. */
async function removeOtherBuilds(keep: string): Promise<void> {
  for await (const entry of Deno.readDir(BIN_DIR)) {
    const path = join(BIN_DIR, entry.name);
    if (entry.name.startsWith("gitaly-client-") && !entry.name.endsWith(".tmp") && path !== keep) {
      await Deno.remove(path).catch(() => {});
    }
  }
}

/** Hex SHA-256 over the names and contents of the client's .go, go.mod and go.sum files. */
async function sourceHash(): Promise<string> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(CLIENT_DIR)) {
    if (entry.isFile && /(\.go|^go\.mod|^go\.sum)$/.test(entry.name)) names.push(entry.name);
  }
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of names.sort()) {
    const content = await Deno.readFile(join(CLIENT_DIR, name));
    parts.push(encoder.encode(`${name}\0${content.length}\0`), content);
  }
  const digest = await crypto.subtle.digest("SHA-256", concat(parts));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").slice(
    0,
    16,
  );
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The first executable called `name` on PATH, looked up synchronously for `ignore`. */
function findOnPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
