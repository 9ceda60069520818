/**
 * `deno task rpc-coverage`: every method listed once as implemented or
 * not with a total, and `--missing` listing only the gaps.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { gitalyServices } from "../../src/proto/mod.ts";
import { formatCoverage, formatMissing, rpcCoverage } from "../../src/cli/rpc_coverage.ts";

const SCRIPT = new URL("../../src/cli/rpc_coverage.ts", import.meta.url).pathname;
const allMethods = gitalyServices().flatMap((s) => s.methods.map((m) => `${s.fullName}/${m.name}`));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("rpcCoverage marks every Gitaly method by whether it has a handler", () => {
  const rows = rpcCoverage();
  const flat = rows.flatMap((r) => r.methods.map((m) => [`${r.service}/${m.name}`, m.implemented]));
  assertEquals(flat.map(([name]) => name), allMethods);
  const implemented = new Map(flat as [string, boolean][]);
  assertEquals(implemented.get("gitaly.RepositoryService/RepositoryExists"), true);
  assertEquals(implemented.get("gitaly.SSHService/SSHUploadPackWithSidechannel"), true);
  // Praefect serves PraefectInfoService, never a node.
  assertEquals(implemented.get("gitaly.PraefectInfoService/Dataloss"), false);
});

Deno.test("the listing names every method under its service, marked, with counts and a total", async () => {
  const { code, stdout } = await run([]);
  assertEquals(code, 0);
  const lines = stdout.trimEnd().split("\n");
  const methodLines = lines.filter((l) => l.startsWith("  "));
  assertEquals(methodLines.length, allMethods.length);
  for (const line of methodLines) assertMatch(line, /^ {2}\[[x ]\] \w+$/);
  assert(lines.includes("  [x] RepositoryExists"));
  assert(lines.includes("  [ ] Dataloss"));
  const ssh = gitalyServices().find((s) => s.fullName === "gitaly.SSHService")!;
  assert(lines.includes(`gitaly.SSHService ${ssh.methods.length}/${ssh.methods.length}`));
  const done = rpcCoverage().flatMap((r) => r.methods).filter((m) => m.implemented).length;
  assertEquals(
    lines.at(-1),
    `total ${done}/${allMethods.length} implemented, ${allMethods.length - done} missing`,
  );
  assertEquals(stdout.trimEnd(), formatCoverage(rpcCoverage()));
});

Deno.test("--missing lists only the unimplemented methods, one service/Method a line", async () => {
  const { code, stdout } = await run(["--missing"]);
  assertEquals(code, 0);
  const lines = stdout.trimEnd().split("\n");
  const missing = rpcCoverage().flatMap((r) =>
    r.methods.filter((m) => !m.implemented).map((m) => `${r.service}/${m.name}`)
  );
  assertEquals(lines, missing);
  assert(lines.includes("gitaly.PraefectInfoService/Dataloss"));
  assert(!lines.includes("gitaly.RepositoryService/RepositoryExists"));
  assertEquals(stdout.trimEnd(), formatMissing(rpcCoverage()));
});

Deno.test("rpc-coverage refuses other arguments with its usage", async () => {
  const { code, stdout, stderr } = await run(["--bogus"]);
  assertEquals(code, 2);
  assertEquals(stdout, "");
  assertMatch(stderr, /usage: deno task rpc-coverage \[--missing\]/);
});
