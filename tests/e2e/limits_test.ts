import { join } from "node:path";
import { decodeStatusDetails } from "../../src/server/errors.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { TestClient } from "../helpers/grpc.ts";
import { startTestServer } from "../helpers/server.ts";
import type { ServiceError } from "@grpc/grpc-js";

const UPLOAD_PACK = "/gitaly.SSHService/SSHUploadPack";

const repo = (relative_path: string) => ({
  repository: { storage_name: "default", relative_path },
});

/** Code, message and LimitError of a refused call, as a client reads them. */
function refusal(error: ServiceError | undefined) {
  assert(error, "the call was not refused");
  const bin = error.metadata.get("grpc-status-details-bin")[0] as Uint8Array;
  return {
    code: error.code,
    message: error.details,
    details: decodeStatusDetails(bin).details,
  };
}

function expected(message: string) {
  return {
    code: 8,
    message,
    details: [{
      type: "gitaly.LimitError",
      value: { error_message: message, retry_after: { seconds: 0, nanos: 0 } },
    }],
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

Deno.test("limits: concurrency per repository and pack-objects per user, end to end", async () => {
  const server = await startTestServer({
    extraToml: [
      `[[concurrency]]`,
      `rpc = "${UPLOAD_PACK}"`,
      `max_per_repo = 1`,
      `max_queue_size = 1`,
      `[pack_objects_limiting]`,
      `key = "user"`,
      `max_concurrency = 1`,
      `max_queue_wait = "200ms"`,
    ].join("\n"),
  });
  const client = new TestClient(server.unixAddress);
  const held: ReturnType<TestClient["hold"]>[] = [];
  try {
    for (const name of ["a.git", "b.git"]) {
      const init = new Deno.Command("git", {
        args: ["init", "-q", "--bare", join(server.storagePaths.default, name)],
      });
      assert((await init.output()).success);
    }
    const asUser = (user_id: string) => ({ metadata: { user_id } });
    // a.git: one upload-pack runs (waiting for the client), one waits.
    held.push(client.hold(UPLOAD_PACK, repo("a.git"), asUser("user-1")));
    await settle();
    held.push(client.hold(UPLOAD_PACK, repo("a.git"), asUser("user-2")));
    await settle();
    const full = await client.bidiStream(UPLOAD_PACK, [repo("a.git")], asUser("user-3"));
    assertEquals(refusal(full.error), expected("maximum queue size reached"));

    // b.git is another repository, but user-1's pack-objects slot is taken.
    const busyUser = await client.bidiStream(UPLOAD_PACK, [repo("b.git")], asUser("user-1"));
    assertEquals(refusal(busyUser.error), expected("maximum time in concurrency queue reached"));
    // Another user on b.git is served (a flush: the client wants nothing).
    const flush = { stdin: new TextEncoder().encode("0000") };
    const other = await client.bidiStream(UPLOAD_PACK, [repo("b.git"), flush], asUser("user-4"));
    assertEquals(other.error, undefined);
    assert(other.responses.length > 0);

    const metrics = await (await fetch(`http://${server.metricsAddress}/metrics`)).text();
    const labels = 'system="gitaly",grpc_service="gitaly.SSHService",grpc_method="SSHUploadPack"';
    for (
      const line of [
        `gitaly_concurrency_limiting_in_progress{${labels}} 1`,
        `gitaly_concurrency_limiting_queued{${labels}} 1`,
        `gitaly_requests_dropped_total{${labels},reason="max_size"} 1`,
        // a.git's first call and both b.git calls were admitted by the per-RPC limit.
        `gitaly_concurrency_limiting_acquiring_seconds_count{${labels}} 3`,
        `gitaly_pack_objects_in_progress 1`,
        `gitaly_pack_objects_dropped_total{reason="max_time"} 1`,
        `gitaly_concurrency_limiting_in_progress{system="gitaly",grpc_service="gitaly.RepositoryService",grpc_method="ReplicateRepository"} 0`,
      ]
    ) assert(metrics.includes(line), `missing ${line} in\n${metrics}`);

    // The refused calls' log lines say why, with Gitaly's limit.* fields.
    const dropped = server.stderr().split("\n").filter((l) =>
      l.includes("limit.concurrency_dropped")
    )
      .map((l) => JSON.parse(l));
    assertEquals(
      dropped.map((l) => [
        l["grpc.code"],
        l["limit.limiting_type"],
        l["limit.limiting_key"],
        l["limit.concurrency_dropped"],
      ]),
      [
        ["ResourceExhausted", "per-rpc", "a.git", "max_size"],
        ["ResourceExhausted", "pack-objects", "user-1", "max_time"],
      ],
    );
  } finally {
    for (const call of held) call.cancel();
    await Promise.all(held.map((call) => call.settled));
    client.close();
    await server.stop();
  }
});
