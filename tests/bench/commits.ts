/**
 * CommitService benchmark, ours beside the reference Gitaly 16.7 in one
 * run: FindCommit requests per second at concurrency 1 and 32 over one
 * connection, LastCommitForPath on a file with 5,000 commits of history
 * (changed at the tip, and one last changed 5,000 commits back),
 * ListCommits of all 5,000 commits, FindCommits of 1,000 with short stats,
 * and ListLastCommitsForTree of a 500-entry tree. Both servers get a copy of
 * one generated repository; cases alternate between them, best of three.
 * Without the reference only our figures are printed.
 *
 * @module
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { referenceAvailable, refgitaly } from "../differential/harness.ts";
import { copyRepo, gitEnv } from "../helpers/gitrepo.ts";
import { startTestServer } from "../helpers/server.ts";

const HISTORY_COMMITS = 5000;
const TREE_ENTRIES = 500;
const RUNS = 3;
const RPS_SECONDS = 3;
const encoder = new TextEncoder();
const methods = grpcServiceDefinition("gitaly.CommitService");

/** One server under test. */
interface Target {
  name: string;
  client: grpc.Client;
  repository: { storage_name: string; relative_path: string };
}

/**
 * The bench repository: `history.txt` changed by each of 5,000 commits,
 * `cold.txt` only by the first, and `tree/` with 500 files, file i added
 * by commit 10·i (so each entry's last commit lies at a different depth).
 */
async function buildRepo(path: string): Promise<void> {
  const init = await new Deno.Command("git", {
    args: ["init", "--bare", "--quiet", "--initial-branch=main", path],
    env: gitEnv(),
  }).output();
  if (!init.success) throw new Error("git init failed");
  const parts: string[] = [];
  const data = (text: string) => `data ${encoder.encode(text).length}\n${text}\n`;
  for (let i = 0; i < HISTORY_COMMITS; i++) {
    const when = 1_700_000_000 + i * 60;
    parts.push(
      `commit refs/heads/main\n`,
      `author Bench <bench@example.com> ${when} +0000\n`,
      `committer Bench <bench@example.com> ${when} +0000\n`,
      data(`Commit ${i}\n\nChanges history.txt.\n`),
    );
    parts.push(`M 100644 inline history.txt\n${data(`version ${i}\n`)}`);
    if (i === 0) parts.push(`M 100644 inline cold.txt\n${data("cold\n")}`);
    if (i % 10 === 0 && i / 10 < TREE_ENTRIES) {
      const name = `tree/entry-${String(i / 10).padStart(3, "0")}.txt`;
      parts.push(`M 100644 inline ${name}\n${data(`${name}\n`)}`);
    }
    parts.push("\n");
  }
  parts.push("done\n");
  const child = new Deno.Command("git", {
    args: ["--git-dir", path, "fast-import", "--quiet", "--done"],
    env: gitEnv(),
    clearEnv: true,
    stdin: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(parts.join("")));
  await writer.close();
  if (!(await child.status).success) throw new Error("fast-import failed");
  const repack = await new Deno.Command("git", {
    args: ["--git-dir", path, "repack", "-a", "-d", "-q"],
    env: gitEnv(),
  }).output();
  if (!repack.success) throw new Error("repack failed");
}

function unary(target: Target, method: string, request: Record<string, unknown>): Promise<void> {
  const definition = methods[method];
  return new Promise((resolve, reject) => {
    target.client.makeUnaryRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      { repository: target.repository, ...request },
      (error) => error ? reject(error) : resolve(),
    );
  });
}

async function serverStream(
  target: Target,
  method: string,
  request: Record<string, unknown>,
): Promise<number> {
  const definition = methods[method];
  const call = target.client.makeServerStreamRequest(
    definition.path,
    definition.requestSerialize,
    definition.responseDeserialize,
    { repository: target.repository, ...request },
  );
  let messages = 0;
  for await (const _ of call) messages++;
  return messages;
}

/** Requests per second of `call` with `concurrency` callers for RPS_SECONDS. */
async function requestsPerSecond(concurrency: number, call: () => Promise<void>): Promise<number> {
  const deadline = performance.now() + RPS_SECONDS * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await call();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - started) / 1000);
}

/** The fastest of `repeat` calls, in seconds (short calls are noisy on a shared machine). */
async function seconds(call: () => Promise<unknown>, repeat = 1): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    await call();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

/** A measurement: higher is better for rates, lower for times. */
interface Case {
  name: string;
  unit: "req/s" | "s";
  run(target: Target): Promise<number>;
}

const CASES: Case[] = [
  {
    name: "FindCommit, concurrency 1",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(1, () => unary(t, "FindCommit", { revision: encoder.encode("main~7") })),
  },
  {
    name: "FindCommit, concurrency 32",
    unit: "req/s",
    run: (t) =>
      requestsPerSecond(32, () => unary(t, "FindCommit", { revision: encoder.encode("main~7") })),
  },
  {
    name: "LastCommitForPath, changed at the tip",
    unit: "s",
    run: (t) =>
      seconds(() =>
        unary(t, "LastCommitForPath", {
          revision: encoder.encode("main"),
          path: encoder.encode("history.txt"),
        }), 20),
  },
  {
    name: "LastCommitForPath, 5,000 commits back",
    unit: "s",
    run: (t) =>
      seconds(() =>
        unary(t, "LastCommitForPath", {
          revision: encoder.encode("main"),
          path: encoder.encode("cold.txt"),
        }), 20),
  },
  {
    name: "ListCommits, all 5,000 commits",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await serverStream(t, "ListCommits", { revisions: ["main"] });
        if (messages < 1) throw new Error("no commits");
      }, 3),
  },
  {
    name: "FindCommits, 1,000 commits with stats",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await serverStream(t, "FindCommits", {
          revision: encoder.encode("main"),
          limit: 1000,
          include_shortstat: true,
        });
        if (messages < 1) throw new Error("no commits");
      }, 3),
  },
  {
    name: "ListLastCommitsForTree, 500 entries",
    unit: "s",
    run: (t) =>
      seconds(async () => {
        const messages = await serverStream(t, "ListLastCommitsForTree", {
          revision: "main",
          path: encoder.encode("tree/"),
          limit: TREE_ENTRIES,
        });
        if (messages !== TREE_ENTRIES / 10) throw new Error(`${messages} messages`);
      }),
  },
];

/** Prints the section. */
export async function commitsSection(): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "bcm-" });
  const refDir = join(dir, "ref");
  const source = join(dir, "source.git");
  const server = await startTestServer();
  const targets: Target[] = [];
  let referenceStarted = false;
  try {
    await buildRepo(source);
    const repository = { storage_name: "default", relative_path: "bench-commits.git" };
    await copyRepo(source, join(server.storagePaths.default, repository.relative_path));
    targets.push({
      name: "ours",
      client: new grpc.Client(server.unixAddress, grpc.credentials.createInsecure()),
      repository,
    });
    if (referenceAvailable) {
      await refgitaly("start", refDir);
      referenceStarted = true;
      await copyRepo(source, join(refDir, "repositories", repository.relative_path));
      targets.push({
        name: "reference",
        client: new grpc.Client(
          `unix:${join(refDir, "gitaly.socket")}`,
          grpc.credentials.createInsecure(),
        ),
        repository,
      });
    }
    // Warm-up: connections, cat-file processes, the page cache.
    for (const target of targets) {
      for (const c of CASES.slice(2)) await c.run(target);
    }
    const best = new Map<string, number>();
    for (let run = 0; run < RUNS; run++) {
      for (const c of CASES) {
        for (const target of targets) {
          const value = await c.run(target);
          const key = `${c.name}\0${target.name}`;
          const previous = best.get(key);
          const better = c.unit === "s" ? value < (previous ?? Infinity) : value > (previous ?? 0);
          if (better) best.set(key, value);
        }
      }
    }
    console.log(
      `\n## CommitService: ${HISTORY_COMMITS} commits, a ${TREE_ENTRIES}-entry tree ` +
        `(best of ${RUNS}, interleaved)\n`,
    );
    console.log("| case | ours | reference | ours ÷ reference (higher is better) |");
    console.log("| --- | --- | --- | --- |");
    for (const c of CASES) {
      const ours = best.get(`${c.name}\0ours`)!;
      const reference = best.get(`${c.name}\0reference`);
      const format = (v: number) =>
        c.unit === "s" ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(0)} req/s`;
      const ratio = reference === undefined
        ? "—"
        : `${(c.unit === "s" ? reference / ours : ours / reference).toFixed(2)}×`;
      console.log(
        `| ${c.name} | ${format(ours)} | ${
          reference === undefined ? "—" : format(reference)
        } | ${ratio} |`,
      );
    }
  } finally {
    for (const target of targets) target.client.close();
    // SIGKILL: no GOAWAY towards this process (see the transport section).
    await server.stop("SIGKILL").catch(() => {});
    if (referenceStarted) await refgitaly("stop", refDir).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
