import { assert, assertEquals } from "../helpers/assert.ts";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { startTestServer } from "../helpers/server.ts";
import { codeOf, TestClient } from "../helpers/grpc.ts";

/** A git that sleeps first, in-process (perl execs git), so killing it leaves no grandchild. */
async function slowGit(dir: string, seconds: number): Promise<string> {
  const path = join(dir, `slow-git-${seconds}`);
  await Deno.writeTextFile(path, `#!/usr/bin/perl\nsleep ${seconds};\nexec "git", @ARGV;\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function prepare(seconds: number, grace: string) {
  const tools = await Deno.makeTempDir();
  const bin = await slowGit(tools, seconds);
  const server = await startTestServer({
    gracefulRestartTimeout: grace,
    extraToml: `[git]\nbin_path = "${bin}"`,
  });
  const storage = server.storagePaths.default;
  const init = await new Deno.Command("git", {
    args: ["init", "--bare", "-q", join(storage, "r.git")],
  }).output();
  assert(init.success);
  return { tools, bin, server };
}

const hasBranches = (client: TestClient) =>
  client.unary("/gitaly.RepositoryService/HasLocalBranches", {
    repository: { storage_name: "default", relative_path: "r.git" },
  });

Deno.test("SIGTERM lets an in-flight call finish within graceful_restart_timeout, then exits 0", async () => {
  const { tools, server } = await prepare(1, "20s");
  const client = new TestClient(server.unixAddress);
  try {
    const call = codeOf(hasBranches(client));
    await new Promise((r) => setTimeout(r, 300));
    const exit = server.stop("SIGTERM");
    assertEquals(await call, status.OK);
    assertEquals((await exit).code, 0);
  } finally {
    client.close();
    await Deno.remove(tools, { recursive: true });
  }
});

Deno.test("SIGTERM past the grace period aborts the call, kills git, exits 0", async () => {
  const { tools, bin, server } = await prepare(60, "300ms");
  const client = new TestClient(server.unixAddress);
  try {
    const call = codeOf(hasBranches(client));
    // Wait for the slow git to start (a loaded machine may take a while).
    const deadline = Date.now() + 20_000;
    while (!(await stray(bin)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(await stray(bin), "the slow git should be running");
    const started = Date.now();
    const exit = await server.stop("SIGTERM");
    assertEquals(exit.code, 0);
    assert(Date.now() - started < 10_000);
    assert([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL].includes(await call));
    assertEquals(await stray(bin), false, "no git process may outlive the server");
  } finally {
    client.close();
    await Deno.remove(tools, { recursive: true });
  }
});

async function stray(marker: string): Promise<boolean> {
  const out = await new Deno.Command("pgrep", { args: ["-f", marker], stdout: "piped" }).output();
  return out.code === 0;
}
