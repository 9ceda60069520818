import {
  AdaptiveLimit,
  ConcurrencyLimiter,
  fixedLimit,
  type LimitMonitor,
  MAX_QUEUE_SIZE_MESSAGE,
  MAX_QUEUE_TIME_MESSAGE,
  RATE_LIMIT_MESSAGE,
  RateLimiter,
} from "../../src/server/limits.ts";
import { Code, GrpcError } from "../../src/server/errors.ts";
import { CallLimits, repositoryKey } from "../../src/server/call_limits.ts";
import { ServerMetrics } from "../../src/server/metrics.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

/** A promise with its resolve function exposed. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function recordingMonitor(): LimitMonitor & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    queued: (key, length) => events.push(`queued ${key} ${length}`),
    dequeued: () => events.push("dequeued"),
    entered: (inProgress) => events.push(`entered ${inProgress}`),
    exited: () => events.push("exited"),
    dropped: (key, reason) => events.push(`dropped ${key} ${reason}`),
  };
}

function assertLimitError(error: unknown, message: string): void {
  assert(error instanceof GrpcError, `not a GrpcError: ${error}`);
  assertEquals(error.code, Code.RESOURCE_EXHAUSTED);
  assertEquals(error.message, message);
  assertEquals(error.details, [{
    type: "gitaly.LimitError",
    value: { error_message: message, retry_after: { seconds: 0, nanos: 0 } },
  }]);
}

Deno.test("limits: calls beyond max_per_repo wait in order; a full queue refuses at once", async () => {
  const monitor = recordingMonitor();
  const limiter = new ConcurrencyLimiter({
    limit: fixedLimit(1),
    maxQueueSize: 2,
    maxQueueWaitMs: 0,
    monitor,
  });
  const order: string[] = [];
  const first = gate();
  const running = [
    limiter.limit("a", undefined, async () => {
      order.push("1");
      await first.promise;
    }),
    limiter.limit("a", undefined, () => Promise.resolve(order.push("2"))),
    limiter.limit("a", undefined, () => Promise.resolve(order.push("3"))),
  ];
  await tick();
  assertEquals(order, ["1"]);
  const refused = await limiter.limit("a", undefined, () => Promise.resolve()).catch((e) => e);
  assertLimitError(refused, MAX_QUEUE_SIZE_MESSAGE);
  first.open();
  await Promise.all(running);
  assertEquals(order, ["1", "2", "3"]);
  assertEquals(limiter.activeKeys, 0);
  assertEquals(monitor.events.filter((e) => e.startsWith("dropped")), ["dropped a max_size"]);
  // Queue lengths count the running and the waiting calls of the key.
  assertEquals(monitor.events.filter((e) => e.startsWith("queued")), [
    "queued a 1",
    "queued a 2",
    "queued a 3",
  ]);
  assertEquals(monitor.events.filter((e) => e.startsWith("entered")), [
    "entered 1",
    "entered 1",
    "entered 1",
  ]);
});

Deno.test("limits: keys are limited separately", async () => {
  const limiter = new ConcurrencyLimiter({
    limit: fixedLimit(1),
    maxQueueSize: 1,
    maxQueueWaitMs: 0,
  });
  const held = gate();
  const a = limiter.limit("a", undefined, () => held.promise);
  let bRan = false;
  await limiter.limit("b", undefined, () => Promise.resolve(bRan = true));
  assert(bRan, "another repository's call must not wait");
  held.open();
  await a;
});

Deno.test("limits: a call waiting longer than max_queue_wait is refused and leaves the queue", async () => {
  const monitor = recordingMonitor();
  const limiter = new ConcurrencyLimiter({
    limit: fixedLimit(1),
    maxQueueSize: 0,
    maxQueueWaitMs: 30,
    monitor,
  });
  const held = gate();
  const a = limiter.limit("a", undefined, () => held.promise);
  const refused = await limiter.limit("a", undefined, () => Promise.resolve()).catch((e) => e);
  assertLimitError(refused, MAX_QUEUE_TIME_MESSAGE);
  assert(monitor.events.includes("dropped a max_time"));
  held.open();
  await a;
  // The slot is free again and nobody is stuck in the queue.
  await limiter.limit("a", undefined, () => Promise.resolve());
  assertEquals(limiter.activeKeys, 0);
});

Deno.test("limits: an aborted waiter stops waiting with the abort's reason", async () => {
  const limiter = new ConcurrencyLimiter({
    limit: fixedLimit(1),
    maxQueueSize: 0,
    maxQueueWaitMs: 0,
  });
  const held = gate();
  const a = limiter.limit("a", undefined, () => held.promise);
  const controller = new AbortController();
  const waiting = limiter.limit("a", controller.signal, () => Promise.resolve("ran"));
  controller.abort(new Error("cancelled"));
  await assertRejects(waiting, /cancelled/);
  held.open();
  await a;
  assertEquals(limiter.activeKeys, 0);
});

Deno.test("limits: the adaptive limit grows by one each calibration up to max_limit", async () => {
  let now = 0;
  const limit = new AdaptiveLimit({ initial: 1, min: 1, max: 3 }, () => now, 1000);
  assertEquals(limit.current(), 1);
  now = 1000;
  assertEquals(limit.current(), 2);
  now = 10_000;
  assertEquals(limit.current(), 3);
  // A waiter is admitted once the grown limit frees a slot at the next release.
  now = 0;
  const growing = new AdaptiveLimit({ initial: 1, min: 1, max: 2 }, () => now, 1000);
  const limiter = new ConcurrencyLimiter({ limit: growing, maxQueueSize: 0, maxQueueWaitMs: 0 });
  const held = gate();
  const a = limiter.limit("k", undefined, () => held.promise);
  now = 1000;
  let ran = false;
  await limiter.limit("k", undefined, () => Promise.resolve(ran = true));
  assert(ran, "the second slot is there after one calibration period");
  held.open();
  await a;
});

Deno.test("limits: the token bucket holds burst tokens and refills one per interval", () => {
  let now = 0;
  let drops = 0;
  const limiter = new RateLimiter(1000, 2, { clock: () => now, onDrop: () => drops++ });
  limiter.take("a");
  limiter.take("a");
  let refused: unknown;
  try {
    limiter.take("a");
  } catch (err) {
    refused = err;
  }
  assertLimitError(refused, RATE_LIMIT_MESSAGE);
  assertEquals(drops, 1);
  limiter.take("b"); // another repository has its own bucket
  now = 999;
  assertEquals(tryTake(limiter, "a"), false);
  now = 1000;
  assertEquals(tryTake(limiter, "a"), true);
  now = 100_000; // far later: full again (burst), unused buckets pruned
  assertEquals(tryTake(limiter, "a"), true);
  assertEquals(tryTake(limiter, "a"), true);
  assertEquals(tryTake(limiter, "a"), false);
  assertEquals(limiter.size, 1);
});

function tryTake(limiter: RateLimiter, key: string): boolean {
  try {
    limiter.take(key);
    return true;
  } catch {
    return false;
  }
}

Deno.test("limits: CallLimits keys by repository, skips calls without one, counts metrics", async () => {
  const metrics = new ServerMetrics();
  const limits = new CallLimits({
    concurrency: [{
      rpc: "/gitaly.RefService/FindAllTags",
      maxPerRepo: 1,
      maxQueueSize: 1,
      maxQueueWaitMs: 0,
    }],
    rateLimiting: [{ rpc: "/gitaly.RefService/FindBranch", intervalMs: 60_000, burst: 1 }],
    packObjects: { key: "user", maxConcurrency: 1, maxQueueLength: 1, maxQueueWaitMs: 0 },
  }, metrics);
  assert(limits.applies("/gitaly.RefService/FindAllTags"));
  assert(limits.applies("/gitaly.SSHService/SSHUploadPack"));
  assert(limits.applies("/gitaly.RepositoryService/ReplicateRepository"));
  assert(!limits.applies("/gitaly.RefService/FindTag"));
  assertEquals(
    repositoryKey({ repository: { storage_name: "s", relative_path: "a.git" } }),
    "a.git",
  );
  assertEquals(repositoryKey({}), "");
  const call = (path: string, relativePath?: string, userId?: string) => ({
    path,
    request: relativePath === undefined ? {} : { repository: { relative_path: relativePath } },
    userId,
    signal: new AbortController().signal,
    logFields: {} as Record<string, string | number | boolean>,
  });
  const held = gate();
  const tags = call("/gitaly.RefService/FindAllTags", "a.git");
  const running = limits.run(tags, () => held.promise);
  const queued = limits.run(
    call("/gitaly.RefService/FindAllTags", "a.git"),
    () => Promise.resolve(),
  );
  await tick();
  assertEquals(tags.logFields["limit.limiting_type"], "per-rpc");
  assertEquals(tags.logFields["limit.limiting_key"], "a.git");
  const refused = await limits.run(
    call("/gitaly.RefService/FindAllTags", "a.git"),
    () => Promise.resolve(),
  )
    .catch((e) => e);
  assertLimitError(refused, MAX_QUEUE_SIZE_MESSAGE);
  // No repository: not limited.
  await limits.run(call("/gitaly.RefService/FindAllTags"), () => Promise.resolve());
  const text = await metrics.text();
  const labels = 'system="gitaly",grpc_service="gitaly.RefService",grpc_method="FindAllTags"';
  assert(text.includes(`gitaly_concurrency_limiting_in_progress{${labels}} 1`), text);
  assert(text.includes(`gitaly_concurrency_limiting_queued{${labels}} 1`), text);
  assert(text.includes(`gitaly_requests_dropped_total{${labels},reason="max_size"} 1`), text);
  held.open();
  await Promise.all([running, queued]);
  assert(
    (await metrics.text()).includes(
      `gitaly_concurrency_limiting_acquiring_seconds_count{${labels}} 2`,
    ),
  );

  await limits.run(call("/gitaly.RefService/FindBranch", "a.git"), () => Promise.resolve());
  assertLimitError(
    await limits.run(call("/gitaly.RefService/FindBranch", "a.git"), () => Promise.resolve()).catch(
      (e) => e,
    ),
    RATE_LIMIT_MESSAGE,
  );
  assert((await metrics.text()).includes(
    'gitaly_requests_dropped_total{system="gitaly",grpc_service="gitaly.RefService",grpc_method="FindBranch",reason="rate"} 1',
  ));

  // pack-objects by user: one user's fetches queue, another's do not; no user, no limit.
  const pack = gate();
  const upload = "/gitaly.SSHService/SSHUploadPack";
  const first = limits.run(call(upload, "a.git", "user-1"), () => pack.promise);
  await limits.run(call(upload, "a.git", "user-2"), () => Promise.resolve());
  await limits.run(call(upload, "a.git"), () => Promise.resolve());
  const second = limits.run(call(upload, "b.git", "user-1"), () => Promise.resolve());
  assertLimitError(
    await limits.run(call(upload, "c.git", "user-1"), () => Promise.resolve()).catch((e) => e),
    MAX_QUEUE_SIZE_MESSAGE,
  );
  const packText = await metrics.text();
  assert(packText.includes("gitaly_pack_objects_in_progress 1"), packText);
  assert(packText.includes("gitaly_pack_objects_queued 1"), packText);
  assert(packText.includes('gitaly_pack_objects_dropped_total{reason="max_size"} 1'), packText);
  pack.open();
  await Promise.all([first, second]);
});
