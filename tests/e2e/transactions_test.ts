/**
 * Transactional voting end to end against our server (no reference, no
 * Go): a client that serves RefTransaction on its backchannel connection
 * (tests/helpers/voter.ts) pushes over Smart HTTP and writes references
 * with Praefect's transaction metadata; the server calls it back with the
 * votes of every phase, and a refused vote leaves the references as they
 * were and fails the push as Gitaly does.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { createRepo, git, gitOk } from "../helpers/gitrepo.ts";
import { startHttpBridge } from "../helpers/http_bridge.ts";
import { startTestServer } from "../helpers/server.ts";
import { newTransactionId, TestVoter, transactionMetadata } from "../helpers/voter.ts";
import { serviceClient } from "../../src/client/services.ts";

const sha1 = (data: string) => createHash("sha1").update(data).digest("hex");
const ZERO = "0".repeat(40);

Deno.test({
  name: "transactions: a push and WriteRef vote over the caller's backchannel",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const server = await startTestServer();
  const voter = new TestVoter();
  const conn = voter.client(server.unixAddress);
  let txId = 0;
  const bridge = await startHttpBridge({
    address: server.unixAddress,
    client: conn,
    glRepository: "project-1",
    metadata: () => txId ? transactionMetadata(txId) : {},
  });
  const storage = server.storagePaths.default;
  const work = join(server.dir, "work");
  try {
    await createRepo(join(storage, "tx.git"));
    await gitOk(["clone", "--quiet", join(storage, "tx.git"), work]);
    const main = await gitOk(["rev-parse", "HEAD"], { cwd: work });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "pushed"], { cwd: work });
    const pushed = await gitOk(["rev-parse", "HEAD"], { cwd: work });
    const push = () => git(["push", `${bridge.url}/tx.git`, "HEAD:refs/heads/main"], { cwd: work });
    const tip = () => gitOk(["rev-parse", "refs/heads/main"], { cwd: join(storage, "tx.git") });

    await t.step("an aborted vote rejects the push and keeps the branch", async () => {
      txId = newTransactionId();
      voter.answer = () => "ABORT";
      const result = await push();
      assertEquals(result.code !== 0, true);
      assertEquals(
        result.stderr.includes(
          "synchronizing pre-receive hook: vote failed: transaction was aborted",
        ),
        true,
        result.stderr,
      );
      assertEquals(await tip(), main);
      assertEquals(voter.votesOf(txId).map((v) => v.phase), [
        "SYNCHRONIZED_PHASE",
        "COMMITTED_PHASE",
      ]);
    });

    await t.step("a push votes in every phase with Gitaly's hashes", async () => {
      txId = newTransactionId();
      voter.answer = () => "COMMIT";
      const result = await push();
      assertEquals(result.code, 0, result.stderr);
      assertEquals(await tip(), pushed);
      const updates = sha1(`${main} ${pushed} refs/heads/main\n${main} ${pushed} HEAD\n`);
      assertEquals(voter.votesOf(txId).map((v) => [v.phase, v.hash]), [
        ["SYNCHRONIZED_PHASE", sha1("synchronize pre-receive hook")],
        ["SYNCHRONIZED_PHASE", sha1("synchronize update hook")],
        ["PREPARED_PHASE", updates],
        ["COMMITTED_PHASE", updates],
        ["SYNCHRONIZED_PHASE", sha1("synchronize post-receive hook")],
        ["COMMITTED_PHASE", ZERO],
      ]);
      assertEquals(new Set(voter.votesOf(txId).map((v) => v.node)), new Set(["gitaly-1"]));
    });

    await t.step("WriteRef votes through git's hook; a refused vote changes nothing", async () => {
      txId = 0;
      const repository = { storage_name: "default", relative_path: "tx.git" };
      const write = (ref: string, id: number) =>
        serviceClient("gitaly.RepositoryService", conn).writeRef({
          repository,
          ref: new TextEncoder().encode(ref),
          revision: new TextEncoder().encode(main),
        }, { metadata: transactionMetadata(id) });
      const ok = newTransactionId();
      await write("refs/heads/voted", ok);
      const line = sha1(`${ZERO} ${main} refs/heads/voted\n`);
      assertEquals(voter.votesOf(ok).map((v) => [v.phase, v.hash]), [
        ["PREPARED_PHASE", line],
        ["COMMITTED_PHASE", line],
      ]);
      voter.answer = () => "STOP";
      const refused = newTransactionId();
      const error = await write("refs/heads/refused", refused).then(() => undefined, (e) => e);
      assertEquals(error?.code, 13);
      const exists = await git(["rev-parse", "--verify", "refs/heads/refused"], {
        cwd: join(storage, "tx.git"),
      });
      assertEquals(exists.code !== 0, true);
    });
    await t.step(
      "the votes' delays are in gitaly_hook_transaction_voting_delay_seconds",
      async () => {
        const text = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
        const count = /^gitaly_hook_transaction_voting_delay_seconds_count (\d+)$/m.exec(text)?.[1];
        assertEquals(Number(count) >= 8, true, `count ${count}`);
      },
    );
  } finally {
    await bridge.close();
    voter.close();
    await server.stop();
  }
});
