/**
 * Holds our sidechannels to Gitaly's own Go code, with real git on both
 * sides:
 * - Gitaly's `client` package (DialSidechannel, UploadPackWithSidechannel,
 *   PostUploadPackWithSidechannel, RPCCredentialsV2) cloning from our
 *   server, as git's ssh transport and as a Smart HTTP front end;
 * - Gitaly's own gitaly-ssh with GITALY_USE_SIDECHANNEL=1;
 * - our client against a Go server built with client.SidechannelServer and
 *   client.OpenServerSidechannel.
 * Skips when `go` cannot be found.
 *
 * @module
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dialSidechannel, postUploadPackWithSidechannel } from "../../../src/client/sidechannel.ts";
import { SidechannelRegistry } from "../../../src/sidechannel/registry.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";
import { createRepo, git, listRefs } from "../../helpers/gitrepo.ts";
import { GO, goBinary, goInstall } from "../../helpers/go.ts";
import { startTestServer, type TestServer } from "../../helpers/server.ts";

const TOKEN = "interop-secret";

if (GO === undefined) {
  console.warn("sidechannel_interop_test: `go` is not on PATH; skipping the Gitaly client interop");
}

/** Our server with a small repository, and a scratch dir, for one test. */
async function withServer(
  body: (server: TestServer, repoPath: string, scratch: string) => Promise<void>,
): Promise<void> {
  const server = await startTestServer({ token: TOKEN });
  const scratch = await Deno.makeTempDir({ prefix: "sidechannel-interop-" });
  const repoPath = join(server.storagePaths.default, "repo.git");
  try {
    await createRepo(repoPath, { commits: 6, branches: ["feature", "fix"], tags: ["v1"] });
    await body(server, repoPath, scratch);
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

function goEnv(server: TestServer, scratch: string): Record<string, string> {
  return {
    GITALY_ADDRESS: server.unixAddress,
    GITALY_TOKEN: TOKEN,
    GITALY_STORAGE: "default",
    GITALY_REPO: "repo.git",
    STATS_FILE: join(scratch, "stats.jsonl"),
  };
}

async function statsLines(scratch: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(scratch, "stats.jsonl"));
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test({
  name: "Gitaly's Go client clones through SSHUploadPackWithSidechannel (git's ssh transport)",
  ignore: GO === undefined,
  async fn() {
    const binary = await goBinary("sidechannel");
    await withServer(async (server, repoPath, scratch) => {
      for (const version of ["0", "2"]) {
        const clone = join(scratch, `ssh-v${version}.git`);
        const out = await git(
          ["-c", `protocol.version=${version}`, "clone", "--bare", "ssh://gitaly/repo.git", clone],
          {
            env: {
              ...goEnv(server, scratch),
              GIT_SSH_COMMAND: `'${binary}' ssh`,
              GIT_SSH_VARIANT: "ssh", // so git passes GIT_PROTOCOL
            },
          },
        );
        assertEquals(out.code, 0, out.stderr);
        assertEquals(await listRefs(clone), await listRefs(repoPath));
      }
      const [v0, v2] = await statsLines(scratch);
      assertEquals(v0.rpc, "SSHUploadPackWithSidechannel");
      assert((v0.wants as number) > 0, JSON.stringify(v0));
      assert((v0.caps as string[]).includes("side-band-64k"), JSON.stringify(v0));
      assert((v2.wants as number) > 0, JSON.stringify(v2));
      assertEquals(v2.caps, null); // protocol v2 announces no capabilities on want lines
    });
  },
});

Deno.test({
  name: "Gitaly's Go client clones over Smart HTTP through PostUploadPackWithSidechannel",
  ignore: GO === undefined,
  async fn() {
    const binary = await goBinary("sidechannel");
    await withServer(async (server, repoPath, scratch) => {
      const front = new Deno.Command(binary, {
        args: ["http"],
        env: goEnv(server, scratch),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(front.stderr).text();
      try {
        const url = await firstLine(front.stdout);
        for (const version of ["0", "2"]) {
          const clone = join(scratch, `http-v${version}.git`);
          const out = await git([
            "-c",
            `protocol.version=${version}`,
            "clone",
            "--bare",
            `${url}/repo.git`,
            clone,
          ]);
          assertEquals(out.code, 0, out.stderr);
          assertEquals(await listRefs(clone), await listRefs(repoPath));
        }
      } finally {
        await front.stdin.close();
        await front.status;
        const log = await stderr;
        assertEquals(log, "", "the front end reported errors");
      }
      const stats = await statsLines(scratch);
      assert(stats.every((s) => s.rpc === "PostUploadPackWithSidechannel"));
      assert(stats.some((s) => (s.wants as number) > 0), JSON.stringify(stats));
    });
  },
});

Deno.test({
  name: "Gitaly's gitaly-ssh with GITALY_USE_SIDECHANNEL=1 clones from our server",
  ignore: GO === undefined,
  async fn() {
    const gitalySsh = await goInstall("gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0");
    await withServer(async (server, repoPath, scratch) => {
      for (
        const [address, name] of [[server.unixAddress, "unix"], [
          `tcp://${server.tcpAddress}`,
          "tcp",
        ]]
      ) {
        const clone = join(scratch, `gitaly-ssh-${name}.git`);
        const out = await git(["clone", "--bare", "ssh://gitaly/repo.git", clone], {
          env: {
            GIT_SSH_COMMAND: `'${gitalySsh}' upload-pack`,
            GIT_SSH_VARIANT: "simple",
            GITALY_ADDRESS: address,
            GITALY_TOKEN: TOKEN,
            GITALY_USE_SIDECHANNEL: "1",
            GITALY_PAYLOAD: JSON.stringify({
              repository: { storage_name: "default", relative_path: "repo.git" },
            }),
          },
        });
        assertEquals(out.code, 0, out.stderr);
        assertEquals(await listRefs(clone), await listRefs(repoPath));
      }
      const ok = server.stderr().split("\n").filter((l) =>
        l.includes('"grpc.method":"SSHUploadPackWithSidechannel"') && l.includes('"grpc.code":"OK"')
      );
      assertEquals(ok.length, 2);
    });
  },
});

Deno.test({
  name: "our client completes sidechannel exchanges with a Go SidechannelServer",
  ignore: GO === undefined,
  async fn() {
    const binary = await goBinary("sidechannel");
    const dir = await Deno.makeTempDir({ prefix: "sidechannel-goserver-" });
    const socket = join(dir, "go.socket");
    const goServer = new Deno.Command(binary, {
      args: ["server", socket],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const registry = new SidechannelRegistry();
    let client: grpc.Client | undefined;
    try {
      assertEquals(await firstLine(goServer.stdout), "listening");
      client = dialSidechannel(`unix:${socket}`, registry);
      const exchange = async (body: string) => {
        let size = 0;
        let head = "";
        const stats = await postUploadPackWithSidechannel(
          client!,
          registry,
          { git_protocol: "version=2" },
          {
            body: ReadableStream.from([new TextEncoder().encode(body)]),
            response: (chunk) => {
              if (head.length < 64) head += new TextDecoder().decode(chunk.subarray(0, 64));
              size += chunk.byteLength;
              return Promise.resolve();
            },
          },
        );
        return { size, head, stats };
      };
      const echo = await exchange("hello from deno");
      assertEquals(echo.head, "echo: hello from deno");
      assertEquals(Number(echo.stats?.payload_size), 15);
      assertEquals(echo.stats?.caps, ["version=2"]);
      // Far more than any window: the Go side's writes wait for our window updates.
      const big = await exchange(`size ${48 * 1024 * 1024}`);
      assertEquals(big.size, 48 * 1024 * 1024);
      const empty = await exchange("");
      assertEquals(empty.head, "echo: ");
      assertEquals(registry.waiting, 0);
    } finally {
      client?.close();
      goServer.kill();
      await goServer.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The first line a process prints (its stdout keeps draining afterwards). */
async function firstLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return text.split("\n")[0].trim();
}
