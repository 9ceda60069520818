/**
 * Sidechannels that go wrong against the real server: a client that
 * vanishes mid-transfer leaves no git behind, and a sidechannel that is
 * never confirmed fails the RPC at the handshake deadline without
 * spawning git.
 */
import * as grpc from "@grpc/grpc-js";
import { BackchannelCredentials } from "../../src/backchannel/client.ts";
import { leanUnaryCall } from "../../src/client/sidechannel.ts";
import { signV2Token } from "../../src/server/auth.ts";
import { SIDECHANNEL_METADATA_KEY } from "../../src/sidechannel/protocol.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { cachedLargeRepo, copyRepo, gitOk, processesReferencing } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";

const CLIENT = new URL("./vanishing_client.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Waits until no process mentions `path`; returns the ones still there after `ms`. */
async function processesGone(path: string, ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = await processesReferencing(path);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = await processesReferencing(path);
  }
  return left;
}

for (const rpc of ["ssh", "post"]) {
  Deno.test(`a client that vanishes mid-transfer leaves no git process (${rpc})`, async () => {
    const source = await cachedLargeRepo("sidechannel-vanish-24m", { sizeMiB: 24 });
    const server = await startTestServer();
    try {
      const repoPath = `${server.storagePaths.default}/big.git`;
      await copyRepo(source, repoPath);
      const want = await gitOk(["--git-dir", repoPath, "rev-parse", "refs/heads/main"]);
      const client = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--quiet",
          "--config",
          CONFIG,
          CLIENT,
          server.unixAddress,
          "default",
          "big.git",
          want,
          rpc,
          String(2 * 1024 * 1024),
        ],
        stdout: "piped",
        stderr: "piped",
      });
      const out = await client.output();
      const said = new TextDecoder().decode(out.stdout).trim();
      assertEquals(said, "vanishing", new TextDecoder().decode(out.stderr));
      assertEquals(await processesGone(repoPath, 10_000), [], "git processes left behind");
      // The call ended with an error, and the server still serves.
      const method = rpc === "ssh"
        ? "SSHUploadPackWithSidechannel"
        : "PostUploadPackWithSidechannel";
      await waitFor(() => server.stderr().includes(`"grpc.method":"${method}"`), 10_000);
      const line = server.stderr().split("\n").find((l) => l.includes(`"grpc.method":"${method}"`));
      assert(line && !line.includes('"grpc.code":"OK"'), line);
    } finally {
      await server.stop();
    }
  });
}

Deno.test("a sidechannel that is never confirmed fails the RPC at the 5 s deadline", async () => {
  const server = await startTestServer({ token: "t" });
  let held = 0;
  const credentials = new BackchannelCredentials(grpc.credentials.createInsecure(), {
    // Accepts the stream and never answers `ok`.
    handlers: { sidechannel: () => held++ },
  });
  const client = new grpc.Client(server.unixAddress, credentials);
  try {
    await gitOk(["init", "--bare", "--quiet", `${server.storagePaths.default}/repo.git`]);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${signV2Token("t")}`);
    metadata.set(SIDECHANNEL_METADATA_KEY, "0");
    const started = performance.now();
    let error: grpc.ServiceError | undefined;
    await leanUnaryCall(
      client,
      "/gitaly.SSHService/SSHUploadPackWithSidechannel",
      ["SSHUploadPackWithSidechannelRequest", "SSHUploadPackWithSidechannelResponse"],
      { repository: { storage_name: "default", relative_path: "repo.git" } },
      metadata,
    ).catch((e) => error = e);
    const seconds = (performance.now() - started) / 1000;
    assertEquals(error?.code, grpc.status.ABORTED);
    assertEquals(
      error?.details,
      "opennig sidechannel: sidechannel: receive confirmation: i/o deadline reached",
    );
    assertEquals(held, 1);
    assert(seconds < 9, `took ${seconds.toFixed(1)} s`);
    assert(!server.stderr().includes("upload-pack"), "git was never started");
  } finally {
    client.close();
    await server.stop();
  }
});

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
