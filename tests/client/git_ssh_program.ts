/**
 * A `GIT_SSH_COMMAND` for the transfer tests, built on the client
 * library's helpers: git runs it as `<program> [-o …] <host> "<git command>
 * '<path>'"`, and it runs that command on the server. Environment:
 * `GITALY_ADDRESS`, `GITALY_TOKEN`, `GITALY_REPO` (relative path in
 * storage `default`), `CA_FILE` (for tls://), `USE_SIDECHANNEL=1`
 * (upload-pack through `uploadPackWithSidechannel`), `GIT_PROTOCOL` (set
 * by git).
 *
 * @module
 */
import {
  dial,
  dialSidechannel,
  receivePack,
  SidechannelRegistry,
  uploadArchive,
  uploadPack,
  uploadPackWithSidechannel,
} from "../../src/client/mod.ts";

const env = (name: string) => Deno.env.get(name) ?? "";
const remoteCommand = Deno.args[Deno.args.length - 1] ?? "";
const command = /^git[- ](upload-pack|receive-pack|upload-archive)\b/.exec(remoteCommand)?.[1];
if (!command) {
  console.error(`unsupported remote command: ${remoteCommand}`);
  Deno.exit(1);
}

const address = env("GITALY_ADDRESS");
const options = {
  token: env("GITALY_TOKEN"),
  caCertificates: env("CA_FILE") ? await Deno.readFile(env("CA_FILE")) : undefined,
};
const repository = { storage_name: "default", relative_path: env("GITALY_REPO") };
const gitProtocol = env("GIT_PROTOCOL");
const io = { stdin: Deno.stdin.readable, stdout: Deno.stdout, stderr: Deno.stderr };

let code: number;
if (command === "upload-pack" && env("USE_SIDECHANNEL") === "1") {
  const registry = new SidechannelRegistry();
  const conn = dialSidechannel(address, registry, options);
  code = await uploadPackWithSidechannel(conn, registry, {
    repository,
    git_protocol: gitProtocol,
  }, io);
  conn.close();
} else {
  const conn = dial(address, options);
  const request = { repository, git_protocol: gitProtocol };
  code = command === "upload-pack"
    ? await uploadPack(conn, request, io)
    : command === "receive-pack"
    ? await receivePack(conn, {
      ...request,
      repository: { ...repository, gl_repository: "project-1" },
      gl_id: "user-1",
      gl_repository: "project-1",
    }, io)
    : await uploadArchive(conn, { repository }, io);
  conn.close();
}
Deno.exit(code);
