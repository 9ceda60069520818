/**
 * gitaly-ssh benchmark: an end-to-end `git clone --bare` of the ~100 MiB
 * transport repository through gitaly-ssh and our server, against git's
 * local `git clone --no-local` (target: ≤ 1.3× its time). Interleaved, best
 * of three. Also the start-up cost of one gitaly-ssh process (git pays it
 * once per fetch): our `main.ts gitaly-ssh`, the module entry the server
 * itself uses, and Gitaly's Go binary when `go` is available. With the
 * reference Gitaly installed, the same clones through Gitaly's Go
 * gitaly-ssh, with and without a sidechannel, against our server beside
 * the reference (ratio: the reference's time ÷ ours, target ≥ 1.0), with
 * each server process's own CPU seconds per clone (the cloning git, not
 * the server, takes most of the time).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gitalySshEnv, ourGitalySsh, repoPayload } from "../helpers/gitaly_ssh.ts";
import { cachedLargeRepo, copyRepo, gitOk } from "../helpers/gitrepo.ts";
import { GO, goInstall } from "../helpers/go.ts";
import { processCpuSeconds, referenceAvailable, startReference } from "../helpers/reference.ts";
import { startTestServer } from "../helpers/server.ts";

/** Same key and options as tests/bench/transport.ts, so both share one cached repository. */
const REPO_KEY = "bench-transport-100mib-v1";
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const TARGET_RATIO = 1.3;

const GITALY_SSH_MODULE = fileURLToPath(new URL("../../src/cli/gitaly_ssh.ts", import.meta.url));

/** One measured way of cloning. */
interface CloneCase {
  name: string;
  /** Clones into `dest`. */
  run(dest: string): Promise<unknown>;
}

/** Prints the section. */
export async function gitalySshSection(): Promise<void> {
  const source = await cachedLargeRepo(REPO_KEY, { sizeMiB: 100, blobKiB: 1024 });
  const server = await startTestServer();
  try {
    const repoPath = join(server.storagePaths.default, "bench.git");
    await copyRepo(source, repoPath);
    const programs = await gitalySshPrograms();
    const cases: CloneCase[] = [
      { name: "git clone --no-local (local)", run: (dest) => localClone(repoPath, dest) },
      ...programs.map(([name, program]) => ({
        name: `clone via ${name}`,
        run: (dest: string) => sshClone(program, server.unixAddress, dest),
      })),
      ...programs.slice(1).map(([name, program]) => ({
        name: `clone via ${name}, sidechannel`,
        run: (dest: string) => sshClone(program, server.unixAddress, dest, true),
      })),
    ];
    const best = await bestOf(cases, RUNS);
    const base = best.get(cases[0].name)!;
    console.log(`\n## gitaly-ssh: end-to-end clone of a ~100 MiB repository (best of ${RUNS})\n`);
    for (const c of cases) {
      const seconds = best.get(c.name)!;
      const ratio = seconds / base;
      const verdict = c === cases[0]
        ? "reference"
        : `${ratio.toFixed(2)}× local (target ≤ ${TARGET_RATIO}×)`;
      console.log(row(c.name, `${seconds.toFixed(2)} s`, verdict));
    }
    const go = programs.find(([name]) => name.includes("(Go)"));
    if (go) await beside(go[1], { address: server.unixAddress, pid: server.process.pid }, source);
    console.log(`\n## gitaly-ssh: start-up, argument error exit (best of 5)\n`);
    for (const [name, program] of programs) {
      console.log(row(name, `${(await startupSeconds(program)).toFixed(3)} s`));
    }
  } finally {
    await server.stop();
  }
}

/**
 * Gitaly's gitaly-ssh cloning from our server and from the reference, with
 * and without a sidechannel, interleaved; prints the table.
 */
async function beside(
  program: string,
  ours: { address: string; pid: number },
  source: string,
): Promise<void> {
  if (!await referenceAvailable()) return;
  const reference = await startReference();
  try {
    await copyRepo(source, join(reference.storagePath, "bench.git"));
    const cpu = new Map<string, number>();
    const cases: CloneCase[] = [];
    for (const sidechannel of [false, true]) {
      for (const [who, target] of [["ours", ours], ["reference", reference]] as const) {
        const name = `${who}${sidechannel ? ", sidechannel" : ""}`;
        cases.push({
          name,
          run: async (dest) => {
            const before = await processCpuSeconds(target.pid);
            await sshClone(program, target.address, dest, sidechannel);
            const used = (await processCpuSeconds(target.pid)) - before;
            cpu.set(name, Math.min(cpu.get(name) ?? Infinity, used));
          },
        });
      }
    }
    const best = await bestOf(cases, RUNS);
    console.log(
      `\n## git clone through Gitaly's gitaly-ssh, ours beside the reference (best of ${RUNS})\n`,
    );
    console.log(
      "| transport | ours s | reference s | ours speed / reference | ours server CPU s | reference server CPU s |",
    );
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const suffix of ["", ", sidechannel"]) {
      const mine = best.get(`ours${suffix}`)!;
      const theirs = best.get(`reference${suffix}`)!;
      const name = suffix ? "SSHUploadPackWithSidechannel" : "SSHUploadPack";
      const cells = [
        name,
        mine.toFixed(2),
        theirs.toFixed(2),
        (theirs / mine).toFixed(2),
        cpu.get(`ours${suffix}`)!.toFixed(2),
        cpu.get(`reference${suffix}`)!.toFixed(2),
      ];
      console.log(`| ${cells.join(" | ")} |`);
    }
  } finally {
    await reference.stop();
  }
}

/** The gitaly-ssh programs to compare: name → command line (without the subcommand). */
async function gitalySshPrograms(): Promise<[string, string][]> {
  const programs: [string, string][] = [
    ["gitaly-ssh: deno run main.ts", ourGitalySsh()],
    ["gitaly-ssh: module entry", `'${Deno.execPath()}' run -A '${GITALY_SSH_MODULE}'`],
  ];
  if (GO) {
    try {
      programs.push([
        "gitaly-ssh: Gitaly 16.7 (Go)",
        await goInstall("gitlab.com/gitlab-org/gitaly/v16/cmd/gitaly-ssh@v16.7.0"),
      ]);
    } catch (err) {
      console.warn(`Gitaly's gitaly-ssh unavailable: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  return programs;
}

/** Runs every case `runs` times, interleaved; the fastest time of each, in seconds. */
async function bestOf(cases: CloneCase[], runs: number): Promise<Map<string, number>> {
  const best = new Map<string, number>();
  for (let run = 0; run < runs; run++) {
    for (const c of cases) {
      const scratch = await Deno.makeTempDir({ prefix: "bench-gitaly-ssh-" });
      try {
        const started = performance.now();
        await c.run(join(scratch, "clone.git"));
        const seconds = (performance.now() - started) / 1000;
        best.set(c.name, Math.min(best.get(c.name) ?? Infinity, seconds));
      } finally {
        await Deno.remove(scratch, { recursive: true }).catch(() => {});
      }
    }
  }
  return best;
}

function localClone(repoPath: string, dest: string): Promise<string> {
  return gitOk(["clone", "--quiet", "--bare", "--no-local", repoPath, dest]);
}

function sshClone(
  program: string,
  address: string,
  dest: string,
  sidechannel = false,
): Promise<string> {
  const env: Record<string, string> = gitalySshEnv({
    program,
    command: "upload-pack",
    address,
    payload: repoPayload("default", "bench.git", { gitProtocol: "version=2" }),
  });
  if (sidechannel) env.GITALY_USE_SIDECHANNEL = "1";
  return gitOk(["clone", "--quiet", "--bare", "ssh://gitaly/bench.git", dest], { env });
}

/** Best wall time of `program -G gitaly` (git's OpenSSH probe, which gitaly-ssh must refuse). */
async function startupSeconds(program: string, runs = 5): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await new Deno.Command("sh", {
      args: ["-c", `${program} -G gitaly`],
      stdout: "null",
      stderr: "null",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

function row(name: string, value: string, note = ""): string {
  return `| ${name.padEnd(36)} | ${value.padStart(12)} | ${note}`;
}
