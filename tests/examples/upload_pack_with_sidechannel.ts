// tests/examples/upload_pack_with_sidechannel.ts: git's GIT_SSH_COMMAND for fetching over a
// sidechannel, e.g.
//   GIT_SSH_COMMAND="npx --yes deno@2.9.6 run -A /path/to/upload_pack_with_sidechannel.ts" GIT_SSH_VARIANT=ssh \
//   GITALY_ADDRESS=unix:/var/opt/gitaly/gitaly.socket git clone ssh://gitaly/group/project.git
// git runs it as `<program> [options] <host> "git-upload-pack '/group/project.git'"`.
import {
  dialSidechannel,
  SidechannelRegistry,
  uploadPackWithSidechannel,
} from "../../src/client/mod.ts";

const path = /'\/?(.+)'$/.exec(Deno.args.at(-1) ?? "")?.[1] ?? "";
const registry = new SidechannelRegistry();
const conn = dialSidechannel(Deno.env.get("GITALY_ADDRESS")!, registry, {
  token: Deno.env.get("GITALY_TOKEN"),
});
let exitCode = 1;
try {
  exitCode = await uploadPackWithSidechannel(conn, registry, {
    repository: { storage_name: "default", relative_path: path },
    git_protocol: Deno.env.get("GIT_PROTOCOL") ?? "", // protocol v2 when git asks for it
  }, { stdin: Deno.stdin.readable, stdout: Deno.stdout, stderr: Deno.stderr });
} catch (error) {
  console.error(`upload-pack: ${error}`);
} finally {
  conn.close();
}
Deno.exit(exitCode);
