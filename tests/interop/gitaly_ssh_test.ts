/**
 * Gitaly's own gitaly-ssh (`gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh`
 * v16.7.0, built once into tests/interop/bin/) as git's SSH command against
 * our server: clones over protocol v0 and v2 and a push, exactly as Gitaly
 * runs it for its own fetches. Skips when `go` is missing.
 *
 * @module
 */
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { gitalySshEnv, pushThroughGitalySsh, repoPayload } from "../helpers/gitaly_ssh.ts";
import { createRepo, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { GO, goInstall } from "../helpers/go.ts";
import { startTestServer } from "../helpers/server.ts";

const TOKEN = "interop-ssh-secret";
const GITALY_SSH = "gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0";

if (GO === undefined) {
  console.warn("gitaly_ssh_test: `go` is not on PATH; skipping Gitaly's gitaly-ssh interop test");
}

Deno.test({
  name: "Gitaly's gitaly-ssh clones from and pushes to our server",
  ignore: GO === undefined,
  async fn(t) {
    const program = await goInstall(GITALY_SSH);
    const server = await startTestServer({ token: TOKEN });
    const work = await Deno.makeTempDir({ prefix: "gitaly-ssh-interop-" });
    const source = join(server.storagePaths.default, "project.git");
    try {
      await createRepo(source, { commits: 3 });
      const expected = await listRefs(source);
      for (
        const [label, address] of [["unix", server.unixAddress], [
          "tcp",
          `tcp://${server.tcpAddress}`,
        ]]
      ) {
        for (const protocol of ["", "version=2"]) {
          await t.step(
            `clone over ${label}, git_protocol=${JSON.stringify(protocol)}`,
            async () => {
              const target = join(work, `${label}-${protocol || "v0"}.git`);
              const env = gitalySshEnv({
                program,
                command: "upload-pack",
                address,
                token: TOKEN,
                payload: repoPayload(
                  "default",
                  "project.git",
                  protocol ? { gitProtocol: protocol } : {},
                ),
              });
              await gitOk(["clone", "--bare", "ssh://gitaly/project.git", target], { env });
              assertEquals(await listRefs(target), expected);
            },
          );
        }
      }
      await t.step("push", async () => {
        const { pushed, ref } = await pushThroughGitalySsh({
          program,
          source,
          work,
          address: server.unixAddress,
          token: TOKEN,
          branch: "interop",
        });
        assertEquals(ref, pushed);
      });
    } finally {
      await server.stop();
      await Deno.remove(work, { recursive: true });
    }
  },
});
