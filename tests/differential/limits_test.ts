/**
 * Request limits against the real Gitaly: both servers run with the same
 * `[[concurrency]]` and `[[rate_limiting]]` settings, slots are held by
 * calls left open (upload-pack and upload-archive wait for the client),
 * and the refusals (code, message, `gitaly.LimitError`) compared.
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  appendServerConfig,
  differentialTest,
  type Harness,
  type RepoRef,
  SIDES,
} from "./harness.ts";

appendServerConfig(`
[[concurrency]]
rpc = "/gitaly.SSHService/SSHUploadPack"
max_per_repo = 1
max_queue_size = 1
max_queue_wait = "1m"

[[concurrency]]
rpc = "/gitaly.SSHService/SSHUploadArchive"
max_per_repo = 1
max_queue_wait = "300ms"

[[rate_limiting]]
rpc = "/gitaly.RefService/FindDefaultBranchName"
interval = "1m"
burst = 1
`);

/** Gitaly's refusal with `message`, as the comparison shows it. */
function refusal(message: string) {
  return {
    ok: false as const,
    code: "ResourceExhausted",
    message,
    details: [{
      type_url: "type.googleapis.com/gitaly.LimitError",
      message: { error_message: message, retry_after: { seconds: 0, nanos: 0 } },
    }],
  };
}

/** Lets the held calls reach the limiter on both sides. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

async function holdAll(
  h: Harness,
  method: "SSHUploadPack" | "SSHUploadArchive",
  repository: RepoRef,
  count: number,
) {
  const held = SIDES.flatMap((side) =>
    Array.from({ length: count }, () => h.hold(side, "gitaly.SSHService", method, { repository }))
  );
  await settle();
  return {
    async release() {
      for (const call of held) call.cancel();
      await Promise.all(held.map((call) => call.settled));
    },
  };
}

differentialTest("limits: a full concurrency queue refuses at once", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const held = await holdAll(h, "SSHUploadPack", repository, 2);
  try {
    const { ours } = await h.compare("gitaly.SSHService", "SSHUploadPack", [{ repository }]);
    assertEquals(ours, refusal("maximum queue size reached"));
  } finally {
    await held.release();
  }
});

differentialTest("limits: a call waiting longer than max_queue_wait is refused", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const held = await holdAll(h, "SSHUploadArchive", repository, 1);
  try {
    const { ours } = await h.compare("gitaly.SSHService", "SSHUploadArchive", [{ repository }]);
    assertEquals(ours, refusal("maximum time in concurrency queue reached"));
  } finally {
    await held.release();
  }
});

differentialTest("limits: the token bucket refuses once its burst is spent", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  await h.compare("gitaly.RefService", "FindDefaultBranchName", { repository });
  const { ours } = await h.compare("gitaly.RefService", "FindDefaultBranchName", { repository });
  assertEquals(ours, refusal("rate limit reached"));
});
