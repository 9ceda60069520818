/**
 * Our client library's sidechannel helpers against a server that is not
 * ours: `sidechannel_server` (this directory) is built on Gitaly's
 * published `client.SidechannelServer` and `client.OpenServerSidechannel`
 * and runs real `git upload-pack`. git clones through
 * `uploadPackWithSidechannel` (tests/client/git_ssh_program.ts), and
 * `uploadPackWithSidechannelWithResult` returns the Go server's statistics.
 * Skips when `go` cannot be found.
 *
 * @module
 */
import { join } from "node:path";
import {
  dialSidechannelContext,
  SidechannelRegistry,
  uploadPackWithSidechannelWithResult,
} from "../../../src/client/mod.ts";
import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";
import { createRepo, git, listRefs } from "../../helpers/gitrepo.ts";
import { GO, goBinary } from "../../helpers/go.ts";

const PROGRAM = new URL("../../client/git_ssh_program.ts", import.meta.url).pathname;

if (GO === undefined) {
  console.warn("client_interop_test: `go` is not on PATH; skipping the Go sidechannel server");
}

/** The Go server on a socket in a temp dir, serving repositories under `storage`. */
async function withGoServer(
  body: (address: string, storage: string, scratch: string) => Promise<void>,
): Promise<void> {
  const binary = await goBinary("sidechannel_server");
  const scratch = await Deno.makeTempDir({ prefix: "go-sidechannel-server-" });
  const storage = join(scratch, "storage");
  await createRepo(join(storage, "repo.git"), { commits: 4, branches: ["feature"], tags: ["v1"] });
  const socket = join(scratch, "go.socket");
  const server = new Deno.Command(binary, {
    args: [socket, storage],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    assertEquals(await firstLine(server.stdout), "listening");
    await body(`unix:${socket}`, storage, scratch);
  } finally {
    server.kill();
    await server.status;
    await Deno.remove(scratch, { recursive: true });
  }
}

Deno.test({
  name: "uploadPackWithSidechannel: git clones from Gitaly's Go SidechannelServer",
  ignore: GO === undefined,
  async fn() {
    await withGoServer(async (address, storage, scratch) => {
      for (const version of ["0", "2"]) {
        const clone = join(scratch, `clone-v${version}.git`);
        const out = await git(
          ["-c", `protocol.version=${version}`, "clone", "--bare", "ssh://go/repo.git", clone],
          {
            env: {
              GIT_SSH_COMMAND: `'${Deno.execPath()}' run -A '${PROGRAM}'`,
              GIT_SSH_VARIANT: "ssh",
              GITALY_ADDRESS: address,
              GITALY_REPO: "repo.git",
              USE_SIDECHANNEL: "1",
            },
          },
        );
        assertEquals(out.code, 0, out.stderr);
        assertEquals(await listRefs(clone), await listRefs(join(storage, "repo.git")));
      }
    });
  },
});

Deno.test({
  name: "uploadPackWithSidechannelWithResult: the Go server's statistics come back",
  ignore: GO === undefined,
  async fn() {
    await withGoServer(async (address) => {
      const registry = new SidechannelRegistry();
      const conn = await dialSidechannelContext(address, registry, {
        deadline: Date.now() + 10_000,
      });
      try {
        let stdout = "";
        // Protocol v0: the server advertises its refs; our flush packet ends the exchange.
        const result = await uploadPackWithSidechannelWithResult(
          conn,
          registry,
          { repository: { storage_name: "default", relative_path: "repo.git" } },
          {
            stdin: new TextEncoder().encode("0000"),
            stdout: (chunk) => {
              stdout += new TextDecoder().decode(chunk);
            },
          },
        );
        assertEquals(result.exitCode, 0);
        assertMatch(stdout, /refs\/heads\/feature/);
        assert(stdout.endsWith("0000"), stdout.slice(-20));
        assertEquals(result.packfileNegotiationStatistics?.caps, ["go-sidechannel-server"]);
        assertEquals(registry.waiting, 0);
      } finally {
        conn.close();
      }
    });
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
