/**
 * Fetch-path benchmark, ours beside the reference Gitaly 16.7: the same
 * ~100 MiB repository (the transport bench's) copied into both servers'
 * storage, the same client (Gitaly's own Go client functions, one process
 * per call, output counted and discarded) for each of SSHUploadPack,
 * SSHUploadPackWithSidechannel, PostUploadPackWithSidechannel and
 * SSHUploadArchive, plus incremental fetches over a sidechannel (the last
 * three commits of that repository, 20 MiB; and 100 new commits of a
 * repository with a 1,100-commit history of small changes), and each
 * server's git running `upload-pack` alone (the ceiling). Runs are
 * interleaved (ours, reference, ours, …), best of `BENCH_RUNS` (default 5).
 *
 * Besides MiB/s and the ratio ours/reference it prints each server's CPU
 * seconds per 100 MiB served: user + system time of the server process
 * itself (/proc/PID/stat fields 14 and 15, so git's children are left
 * out), the lowest of the runs. CPU per byte is much less sensitive to
 * other load on the machine than wall time.
 *
 * @module
 */
import { join } from "node:path";
import { cachedLargeRepo, copyRepo, createRepo, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { GO, goBinary } from "../helpers/go.ts";
import { startTestServer } from "../helpers/server.ts";
import {
  processCpuSeconds,
  referenceAvailable,
  type ReferenceGitaly,
  startReference,
} from "../helpers/reference.ts";

/** Same key and options as tests/bench/transport.ts, so all share one cached repository. */
export const REPO_KEY = "bench-transport-100mib-v1";
export const REPO_OPTIONS = { sizeMiB: 100, blobKiB: 1024 };
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 5);
const MIB = 1024 * 1024;

/** One server under test. */
interface Target {
  name: string;
  address: string;
  pid: number;
  /** The git the server runs, and the benchmark repository in its storage. */
  git: string;
  repoPath: string;
}

/** The repository with a long history of small changes, beside `bench.git`. */
const HISTORY_REPO = "history.git";
/** Its commits, and how many of them the incremental fetch gets. */
const HISTORY_COMMITS = 1100;
const NEW_COMMITS = 100;

/** One measured call: what the Go client runs and what it sends. */
interface FetchCase {
  name: string;
  /** The Go client's RPC argument, or `direct` for the server's git run without a server. */
  rpc: string;
  request: Uint8Array;
  /** The repository in the storage (default `bench.git`). */
  repo?: string;
  /** A full clone, compared with the server's git alone. */
  full?: boolean;
}

/** One call's outcome. */
interface Sample {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

/** Prints the section. */
export async function fetchSection(): Promise<void> {
  if (!GO) {
    console.log("\n## Fetch path: skipped (needs go for Gitaly's Go client)\n");
    return;
  }
  const client = await goBinary("sidechannel");
  const source = await cachedLargeRepo(REPO_KEY, REPO_OPTIONS);
  const scratch = await Deno.makeTempDir({ prefix: "bench-fetch-" });
  const history = join(scratch, HISTORY_REPO);
  await createRepo(history, { commits: HISTORY_COMMITS });
  const cases = await fetchCases(source, history);
  // Both servers in sessions of their own: the kernel's autogroups share the CPU per session.
  const ours = await startTestServer({ ownSession: true });
  const reference = await referenceAvailable() ? await startReference() : undefined;
  try {
    const ourRepo = join(ours.storagePaths.default, "bench.git");
    await copyRepo(source, ourRepo);
    await copyRepo(history, join(ours.storagePaths.default, HISTORY_REPO));
    const targets: Target[] = [
      {
        name: "ours",
        address: ours.unixAddress,
        pid: ours.process.pid,
        git: "git",
        repoPath: ourRepo,
      },
    ];
    if (reference) {
      const repoPath = join(reference.storagePath, "bench.git");
      await copyRepo(source, repoPath);
      await copyRepo(history, join(reference.storagePath, HISTORY_REPO));
      targets.push({
        name: "reference",
        address: reference.address,
        pid: reference.pid,
        git: reference.git,
        repoPath,
      });
    }
    const best = new Map<string, Sample>();
    const key = (c: FetchCase, t: Target) => `${c.name}\0${t.name}`;
    for (let run = 0; run < RUNS; run++) {
      for (const c of cases) {
        for (const target of targets) {
          const sample = await measure(client, c, target);
          const previous = best.get(key(c, target));
          best.set(key(c, target), keepBest(previous, sample));
        }
      }
    }
    printTable(cases, targets, (c, t) => best.get(key(c, t))!, reference);
  } finally {
    await ours.stop("SIGKILL");
    await reference?.stop();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/** Fastest run, and separately the lowest CPU per byte. */
function keepBest(previous: Sample | undefined, sample: Sample): Sample {
  if (!previous) return sample;
  const perByte = (s: Sample) => s.cpuSeconds / s.bytes;
  return {
    bytes: sample.seconds < previous.seconds ? sample.bytes : previous.bytes,
    seconds: Math.min(sample.seconds, previous.seconds),
    cpuSeconds: perByte(sample) < perByte(previous)
      ? sample.cpuSeconds * (previous.bytes / sample.bytes)
      : previous.cpuSeconds,
  };
}

/** Runs the Go client once against `target`, with the server's CPU time around it. */
async function measure(client: string, c: FetchCase, target: Target): Promise<Sample> {
  if (c.rpc === "direct") return await directUploadPack(c, target);
  const cpuBefore = await processCpuSeconds(target.pid);
  const result = await goFetch(client, c.rpc, target.address, c.repo ?? "bench.git", c.request)
    .catch((error) => {
      throw new Error(`${c.name} against ${target.name}: ${error.message}`);
    });
  const cpuSeconds = (await processCpuSeconds(target.pid)) - cpuBefore;
  return { ...result, cpuSeconds };
}

/**
 * One call of Gitaly's Go client (`fetch <rpc>`) against `address` with
 * `request` on its stdin; resolves with the bytes it got and the seconds
 * it measured.
 */
export async function goFetch(
  client: string,
  rpc: string,
  address: string,
  repo: string,
  request: Uint8Array,
): Promise<{ bytes: number; seconds: number }> {
  const child = new Deno.Command(client, {
    args: ["fetch", rpc],
    env: { GITALY_ADDRESS: address, GITALY_STORAGE: "default", GITALY_REPO: repo },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(request);
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  const { bytes, seconds } = JSON.parse(new TextDecoder().decode(stdout));
  return { bytes, seconds };
}

/**
 * The server's own git, `upload-pack --stateless-rpc` on its copy with the
 * full request, stdout read by a BYOB reader: what no server can beat.
 */
async function directUploadPack(c: FetchCase, target: Target): Promise<Sample> {
  const child = new Deno.Command(target.git, {
    args: ["upload-pack", "--stateless-rpc", target.repoPath],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const started = performance.now();
  const writer = child.stdin.getWriter();
  await writer.write(c.request);
  await writer.close();
  const reader = child.stdout.getReader({ mode: "byob" });
  let buffer = new Uint8Array(1024 * 1024);
  let bytes = 0;
  while (true) {
    const { value, done } = await reader.read(buffer);
    if (done) break;
    bytes += value.byteLength;
    buffer = new Uint8Array(value.buffer);
  }
  if (!(await child.status).success) throw new Error(`${target.git} upload-pack failed`);
  return { bytes, seconds: (performance.now() - started) / 1000, cpuSeconds: NaN };
}

/** The calls: a full clone through each RPC, incremental fetches, an archive of HEAD. */
async function fetchCases(source: string, history: string): Promise<FetchCase[]> {
  const tips = [...new Set(Object.values(await listRefs(source)))];
  const full = uploadPackRequest(tips, []);
  const base = await gitOk(["rev-parse", "main~3"], { cwd: source });
  const incremental = uploadPackRequest(tips, [base]);
  const historyTip = await gitOk(["rev-parse", "main"], { cwd: history });
  const historyBase = await gitOk(["rev-parse", `main~${NEW_COMMITS}`], { cwd: history });
  return [
    { name: "git upload-pack alone (no server)", rpc: "direct", request: full },
    { name: "SSHUploadPack", rpc: "ssh-upload-pack", request: full, full: true },
    {
      name: "SSHUploadPackWithSidechannel",
      rpc: "ssh-upload-pack-sidechannel",
      request: full,
      full: true,
    },
    {
      name: "PostUploadPackWithSidechannel",
      rpc: "post-upload-pack-sidechannel",
      request: full,
      full: true,
    },
    {
      name: "incremental fetch, last 3 commits (sidechannel)",
      rpc: "ssh-upload-pack-sidechannel",
      request: incremental,
    },
    {
      name: `incremental fetch, ${NEW_COMMITS} new commits (sidechannel)`,
      rpc: "ssh-upload-pack-sidechannel",
      request: uploadPackRequest([historyTip], [historyBase]),
      repo: HISTORY_REPO,
    },
    {
      name: "SSHUploadArchive (tar of HEAD)",
      rpc: "ssh-upload-archive",
      request: encodePackets(["argument --format=tar\n", "argument HEAD\n"], true),
    },
  ];
}

/** A v0 request: `want` every tip (side-band-64k), flush, `have`s, `done`. */
export function uploadPackRequest(wants: string[], haves: string[]): Uint8Array {
  const caps = " multi_ack_detailed side-band-64k thin-pack ofs-delta agent=bench";
  const wantLines = wants.map((oid, i) => `want ${oid}${i === 0 ? caps : ""}\n`);
  const head = encodePackets(wantLines, true);
  const tail = encodePackets([...haves.map((oid) => `have ${oid}\n`), "done\n"], false);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** pkt-line encodes `lines`, with a flush packet after them when `flush`. */
function encodePackets(lines: string[], flush: boolean): Uint8Array {
  const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, "0") + line;
  return new TextEncoder().encode(lines.map(pkt).join("") + (flush ? "0000" : ""));
}

function printTable(
  cases: FetchCase[],
  targets: Target[],
  sample: (c: FetchCase, t: Target) => Sample,
  reference: ReferenceGitaly | undefined,
): void {
  console.log(
    `\n## Fetch path, Gitaly's Go client, ours beside the reference (best of ${RUNS}, interleaved)\n`,
  );
  if (!reference) console.log("(reference Gitaly not installed: ours only)\n");
  console.log(
    "| call | MiB | ours MiB/s | reference MiB/s | ours/reference | ours/own git alone | " +
      "ours CPU s/100 MiB | reference CPU s/100 MiB | CPU ours/reference |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  const direct = cases.find((c) => c.rpc === "direct");
  const ownGit = direct ? sample(direct, targets[0]) : undefined;
  for (const c of cases) {
    const [ours, ref] = targets.map((t) => sample(c, t));
    const rate = (s: Sample) => s.bytes / MIB / s.seconds;
    const cpu = (s: Sample) => s.cpuSeconds / (s.bytes / (100 * MIB));
    const cpuCell = (s: Sample) => Number.isNaN(s.cpuSeconds) ? "–" : cpu(s).toFixed(3);
    const cells = [
      c.name,
      (ours.bytes / MIB).toFixed(1),
      rate(ours).toFixed(1),
      ref ? rate(ref).toFixed(1) : "–",
      ref ? (rate(ours) / rate(ref)).toFixed(2) : "–",
      ownGit && c.full ? (rate(ours) / rate(ownGit)).toFixed(2) : "–",
      cpuCell(ours),
      ref ? cpuCell(ref) : "–",
      ref && !Number.isNaN(ours.cpuSeconds) ? (cpu(ours) / cpu(ref)).toFixed(2) : "–",
    ];
    console.log(`| ${cells.join(" | ")} |`);
  }
}
