// tests/examples/receive_pack.ts: git's GIT_SSH_COMMAND for pushing, e.g.
//   GIT_SSH_COMMAND="npx --yes deno@2.9.6 run -A /path/to/receive_pack.ts" GIT_SSH_VARIANT=ssh \
//   GITALY_ADDRESS=unix:/var/opt/gitaly/gitaly.socket git push ssh://gitaly/group/project.git main
import { dial, receivePack } from "../../src/client/mod.ts";

const path = /'\/?(.+)'$/.exec(Deno.args.at(-1) ?? "")?.[1] ?? "";
const conn = dial(Deno.env.get("GITALY_ADDRESS")!, { token: Deno.env.get("GITALY_TOKEN") });
let exitCode = 1;
try {
  exitCode = await receivePack(conn, {
    repository: { storage_name: "default", relative_path: path, gl_repository: "project-1" },
    gl_id: "user-1", // who pushes, for hooks
    gl_repository: "project-1",
    git_protocol: Deno.env.get("GIT_PROTOCOL") ?? "",
  }, { stdin: Deno.stdin.readable, stdout: Deno.stdout, stderr: Deno.stderr });
} catch (error) {
  console.error(`receive-pack: ${error}`);
} finally {
  conn.close();
}
Deno.exit(exitCode);
