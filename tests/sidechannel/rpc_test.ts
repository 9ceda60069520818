/**
 * `SSHUploadPackWithSidechannel` and `PostUploadPackWithSidechannel`
 * against the real server (a subprocess), driven by real git through our
 * gitaly-ssh and by our client library.
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import {
  dialSidechannel,
  leanUnaryCall,
  postUploadPackWithSidechannel,
  sshUploadPackWithSidechannel,
} from "../../src/client/sidechannel.ts";
import { encodePktLine, flushPkt } from "../../src/git/pktline.ts";
import { signV2Token } from "../../src/server/auth.ts";
import { SIDECHANNEL_METADATA_KEY } from "../../src/sidechannel/protocol.ts";
import { SidechannelRegistry } from "../../src/sidechannel/registry.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { createRepo, git, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const TOKEN = "sidechannel-secret";
const REPO = { storage_name: "default", relative_path: "repo.git" };

async function withServer(body: (server: TestServer, repoPath: string) => Promise<void>) {
  const server = await startTestServer({ token: TOKEN });
  const repoPath = `${server.storagePaths.default}/repo.git`;
  try {
    await createRepo(repoPath, { commits: 4, branches: ["feature"], tags: ["v1"] });
    await body(server, repoPath);
  } finally {
    await server.stop();
  }
}

Deno.test("git clones through our gitaly-ssh with GITALY_USE_SIDECHANNEL=1 (protocol v0 and v2)", async () => {
  await withServer(async (server, repoPath) => {
    const dir = await Deno.makeTempDir({ prefix: "sidechannel-clone-" });
    try {
      for (const version of ["0", "2"]) {
        const env = {
          GIT_SSH_COMMAND:
            `'${Deno.execPath()}' run -A --quiet --config '${CONFIG}' '${MAIN}' gitaly-ssh upload-pack`,
          GIT_SSH_VARIANT: "simple",
          GITALY_ADDRESS: server.unixAddress,
          GITALY_TOKEN: TOKEN,
          GITALY_USE_SIDECHANNEL: "1",
          GITALY_PAYLOAD: JSON.stringify({
            repository: REPO,
            git_protocol: version === "2" ? "version=2" : "",
          }),
        };
        const clone = `${dir}/clone-v${version}.git`;
        const out = await git(
          ["-c", `protocol.version=${version}`, "clone", "--bare", "ssh://gitaly/repo.git", clone],
          { env },
        );
        assertEquals(out.code, 0, out.stderr);
        assertEquals(await listRefs(clone), await listRefs(repoPath));
      }
      const calls = server.stderr().split("\n").filter((l) =>
        l.includes('"grpc.method":"SSHUploadPackWithSidechannel"') && l.includes('"grpc.code":"OK"')
      );
      assertEquals(calls.length, 2, server.stderr());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("PostUploadPackWithSidechannel answers a stateless clone request with NAK and a pack", async () => {
  await withServer(async (server, repoPath) => {
    const want = await gitOk(["--git-dir", repoPath, "rev-parse", "refs/heads/feature"]);
    const registry = new SidechannelRegistry();
    const client = dialSidechannel(server.unixAddress, registry, { token: TOKEN });
    const dir = await Deno.makeTempDir({ prefix: "sidechannel-post-" });
    try {
      const chunks: Uint8Array[] = [];
      const stats = await postUploadPackWithSidechannel(client, registry, { repository: REPO }, {
        body: bodyOf(
          encodePktLine(`want ${want} ofs-delta\n`),
          flushPkt(),
          encodePktLine("done\n"),
        ),
        response: (chunk) => {
          chunks.push(chunk.slice());
          return Promise.resolve();
        },
      });
      const response = Buffer.concat(chunks);
      assertEquals(response.subarray(0, 12).toString(), "0008NAK\nPACK");
      assertEquals(Number(stats?.wants), 1);
      assertEquals(Number(stats?.packets), 2);
      assertEquals(Number(stats?.payload_size), `want ${want} ofs-delta`.length + "done".length);
      assertEquals(stats?.caps, ["ofs-delta"]);
      // The pack is complete and holds the wanted history.
      await gitOk(["init", "--bare", "--quiet", `${dir}/check.git`]);
      await gitOk(["--git-dir", `${dir}/check.git`, "index-pack", "--stdin"], {
        stdin: response.subarray(8),
      });
      await gitOk(["--git-dir", `${dir}/check.git`, "cat-file", "-e", `${want}^{tree}`]);
    } finally {
      client.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a shallow (deepen) request succeeds even when upload-pack exits non-zero", async () => {
  await withServer(async (server, repoPath) => {
    const want = await gitOk(["--git-dir", repoPath, "rev-parse", "refs/heads/main"]);
    const registry = new SidechannelRegistry();
    const client = dialSidechannel(server.unixAddress, registry, { token: TOKEN });
    try {
      const stats = await postUploadPackWithSidechannel(client, registry, { repository: REPO }, {
        body: bodyOf(
          encodePktLine(`want ${want} shallow\n`),
          encodePktLine("deepen 1\n"),
          flushPkt(),
        ),
        response: () => Promise.resolve(),
      });
      assertEquals(stats?.deepen, "deepen 1");
    } finally {
      client.close();
    }
  });
});

Deno.test("sidechannel RPCs fail as Gitaly's do", async () => {
  await withServer(async (server) => {
    const registry = new SidechannelRegistry();
    const mux = dialSidechannel(server.unixAddress, registry, { token: TOKEN });
    const noBackchannel = new grpc.Client(server.unixAddress, grpc.credentials.createInsecure());
    const ssh = "/gitaly.SSHService/SSHUploadPackWithSidechannel";
    const sshTypes = [
      "SSHUploadPackWithSidechannelRequest",
      "SSHUploadPackWithSidechannelResponse",
    ];
    const post = "/gitaly.SmartHTTPService/PostUploadPackWithSidechannel";
    const postTypes = [
      "PostUploadPackWithSidechannelRequest",
      "PostUploadPackWithSidechannelResponse",
    ];
    const withToken = (extra: Record<string, string> = {}) => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${signV2Token(TOKEN)}`);
      for (const [k, v] of Object.entries(extra)) md.set(k, v);
      return md;
    };
    const failure = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        const e = error as grpc.ServiceError;
        return `${grpc.status[e.code]}: ${e.details}`;
      }
      return "OK";
    };
    try {
      const id = { [SIDECHANNEL_METADATA_KEY]: "0" };
      assertEquals(
        await failure(
          leanUnaryCall(noBackchannel, post, postTypes, { repository: REPO }, withToken(id)),
        ),
        "INTERNAL: open sidechannel: sidechannel: fail to extract yamux session: non-multiplexed connection",
      );
      assertEquals(
        await failure(
          leanUnaryCall(noBackchannel, ssh, sshTypes, { repository: REPO }, withToken(id)),
        ),
        "ABORTED: opennig sidechannel: sidechannel: fail to extract yamux session: non-multiplexed connection",
      );
      const unknown = { [SIDECHANNEL_METADATA_KEY]: "4711" };
      assertEquals(
        await failure(leanUnaryCall(mux, ssh, sshTypes, { repository: REPO }, withToken(unknown))),
        "ABORTED: opennig sidechannel: sidechannel: receive confirmation: EOF",
      );
      const missing = { repository: { storage_name: "default", relative_path: "nope.git" } };
      const postMissing = await failure(
        leanUnaryCall(mux, post, postTypes, missing, withToken(id)),
      );
      assert(postMissing.startsWith("NOT_FOUND: "), postMissing);
      // The SSH variant opens the sidechannel first, then finds no repository.
      const sshMissing = await failure(
        sshUploadPackWithSidechannel(mux, registry, missing, {
          stdin: bodyOf(),
          stdout: () => Promise.resolve(),
          stderr: () => Promise.resolve(),
        }),
      );
      assert(sshMissing.startsWith("NOT_FOUND: "), sshMissing);
      assertEquals(registry.waiting, 0);
    } finally {
      mux.close();
      noBackchannel.close();
    }
  });
});

function bodyOf(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts);
}
