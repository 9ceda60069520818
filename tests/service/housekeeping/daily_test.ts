/**
 * The `[daily_maintenance]` scheduler with an injected clock: it waits for
 * the window, optimizes repositories in storage order until the window
 * closes, cancels the one running at the close, and schedules the next day.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { runGit } from "../../helpers/handler.ts";
import { Logger } from "../../../src/server/logger.ts";
import { parseConfig } from "../../../src/server/config.ts";
import {
  type Clock,
  DailyMaintenance,
  nextStart,
} from "../../../src/service/shared/housekeeping/daily.ts";

/** A clock that moves only when told; sleepers wake as it passes their time. */
class FakeClock implements Clock {
  #now: number;
  #sleepers: { at: number; resolve: () => void }[] = [];
  constructor(start: number) {
    this.#now = start;
  }
  now() {
    return this.#now;
  }
  sleep(ms: number, signal: AbortSignal) {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const sleeper = { at: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal.addEventListener("abort", () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal.reason);
      }, { once: true });
    });
  }
  get sleepers() {
    return this.#sleepers.map((s) => s.at);
  }
  advance(ms: number) {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    for (const s of due) s.resolve();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));
async function until(condition: () => boolean) {
  for (let i = 0; i < 500 && !condition(); i++) await tick();
  assert(condition(), "condition never held");
}

const MIN = 60_000;

Deno.test("nextStart: today's window when still ahead, else tomorrow's (UTC)", () => {
  const at = Date.UTC(2026, 0, 10, 11, 59);
  assertEquals(nextStart(at, 12, 0), Date.UTC(2026, 0, 10, 12, 0));
  assertEquals(nextStart(at, 11, 30), Date.UTC(2026, 0, 11, 11, 30));
});

Deno.test("daily maintenance: optimizes in order within the window, cancels at its close, then waits a day", async () => {
  const root = await Deno.makeTempDir({ prefix: "daily-" });
  const storages = [{ name: "a", path: `${root}/a` }, { name: "b", path: `${root}/b` }];
  for (
    const rel of ["a/x/one.git", "a/two.git", "a/+gitaly/tmp.git", "b/three.git", "b/four.git"]
  ) {
    await runGit(["init", "-q", "--bare", `${root}/${rel}`]);
  }
  const clock = new FakeClock(Date.UTC(2026, 0, 10, 11, 59));
  const lines: string[] = [];
  const optimized: string[] = [];
  let cancelled = "";
  const maintenance = new DailyMaintenance({
    startHour: 12,
    startMinute: 0,
    durationMs: 10 * MIN,
    storages,
    clock,
    logger: new Logger("json", "info", (line) => lines.push(line)),
    optimize: (repo, signal) =>
      new Promise((resolve, reject) => {
        const name = `${repo.storage}:${repo.relativePath}`;
        optimized.push(name);
        // Each optimization takes four minutes of fake time.
        clock.sleep(4 * MIN, signal).then(resolve, (err) => {
          cancelled = name;
          reject(err);
        });
      }),
  });
  maintenance.start();
  await until(() => clock.sleepers.length === 1);
  assertEquals(clock.sleepers, [Date.UTC(2026, 0, 10, 12, 0)]);
  assertEquals(optimized, []);
  clock.advance(MIN);
  await until(() => optimized.length === 1);
  assertEquals(optimized, ["a:two.git"]);
  for (let i = 2; i <= 3; i++) {
    clock.advance(4 * MIN);
    await until(() => optimized.length === i);
  }
  // 12:08: the third optimization runs when the window closes at 12:10.
  assertEquals(optimized, ["a:two.git", "a:x/one.git", "b:four.git"]);
  clock.advance(2 * MIN);
  await until(() => cancelled !== "");
  assertEquals(cancelled, "b:four.git");
  await until(() => clock.sleepers.includes(Date.UTC(2026, 0, 11, 12, 0)));
  assertEquals(optimized.length, 3);
  await maintenance.stop();
  const messages = lines.map((l) => JSON.parse(l));
  const finished = messages.find((m) => m.msg === "maintenance: finished");
  assertEquals([finished.optimized, finished.failed, finished.window_closed], [2, 0, true]);
  assert(messages.some((m) => m.msg === "maintenance: repository optimized"));
  await Deno.remove(root, { recursive: true });
});

Deno.test("[daily_maintenance] config: Gitaly's default window, keys read, Gitaly's checks", () => {
  const base = `socket_path = "s"\n[[storage]]\nname = "default"\npath = "r"\n`;
  const def = parseConfig(base, "/tmp");
  assertEquals(def.config.dailyMaintenance, {
    disabled: false,
    startHour: 12,
    startMinute: 0,
    durationMs: 10 * MIN,
    storages: ["default"],
  });
  const set = parseConfig(
    base +
      `[daily_maintenance]\nstart_hour = 23\nstart_minute = 30\nduration = "45m"\nstorages = ["default"]\ndisabled = true\n`,
    "/tmp",
  );
  assertEquals(set.config.dailyMaintenance, {
    disabled: true,
    startHour: 23,
    startMinute: 30,
    durationMs: 45 * MIN,
    storages: ["default"],
  });
  assertEquals(set.warnings.filter((w) => w.includes("daily_maintenance")), []);
  for (
    const [toml, message] of [
      ["start_hour = 24", "outside range (0-23)"],
      ["start_minute = 60", "outside range (0-59)"],
      ['duration = "25h"', "less than 24 hours"],
      ['storages = ["nope"]', 'storage "nope" does not exist'],
    ]
  ) {
    let error = "";
    try {
      parseConfig(base + `[daily_maintenance]\n${toml}\n`, "/tmp");
    } catch (err) {
      error = (err as Error).message;
    }
    assert(error.includes(message), `${toml}: ${error}`);
  }
});
