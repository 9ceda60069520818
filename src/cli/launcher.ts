/**
 * Ties a server started through `deno task` or npm to the command that
 * launched it.
 *
 * The quick start, `npx --yes deno@2.9.6 task serve`, runs a chain of
 * processes in one process group: `npm exec` (the group leader) → `sh -c` →
 * `deno task` → the server. Signals sent to the leader alone never reach the
 * server: npm forwards SIGINT and SIGTERM to its `sh`, which dies of SIGTERM
 * (leaving `deno task` and the server running, orphaned) and defers SIGINT
 * until its child exits (so nothing happens at all).
 *
 * So a server launched through `deno task` or npm watches the processes
 * of that chain (Linux `/proc`): one of them exiting, or a shell among them
 * waking up while it waits for its only child (a shell that waits is woken
 * only by a signal or by that child stopping), asks the server to stop as a
 * signal would. A server started otherwise (by a supervisor, or by
 * `deno run` in a terminal) has no launcher to watch.
 *
 * @module
 */

/** One process of the chain that launched the server. */
interface Link {
  pid: number;
  /** Start time in clock ticks since boot: tells a reused pid apart. */
  start: string;
  /** The command's name, for the log. */
  comm: string;
  /** For waiting shells: its one child and its context switch counts. */
  wait?: { child: number; switches: string };
}

/** `/proc/PID/stat`'s fields that we read. */
interface Stat {
  comm: string;
  ppid: number;
  pgrp: number;
  start: string;
}

const SHELLS = new Set(["sh", "dash", "bash"]);

/** How often the chain is checked. */
const LAUNCHER_POLL_MS = 200;

/**
 * The processes that launched this one through `deno task` or npm (`npx`),
 * nearest first: the parent, and further up (within the process group)
 * for as long as each one merely runs its child: `deno task`, `sh -c`,
 * npm's `deno` shim, up to `npm exec` itself. Any other process (a script,
 * a test runner) ends the chain and is not part of it. Empty when neither
 * `deno task` nor npm is in it, when this process leads its own process
 * group, and where `/proc` is missing.
 */
export function launcherChain(pid = Deno.pid): Link[] {
  const self = readStat(pid);
  if (!self || self.pgrp === pid) return [];
  const chain: Link[] = [];
  let launched = false;
  let child = pid;
  for (let current = self.ppid; current > 1;) {
    const stat = readStat(current);
    if (!stat || stat.pgrp !== self.pgrp) break;
    const role = roleOf(readCmdline(current));
    if (role === "other") break;
    launched ||= role !== "wrapper";
    chain.push({
      pid: current,
      start: stat.start,
      comm: stat.comm,
      wait: waitState(current, stat, child),
    });
    if (role === "npm" || current === self.pgrp) break;
    child = current;
    current = stat.ppid;
  }
  return launched ? chain : [];
}

/** What a process of the chain is, from its command line. */
function roleOf(argv: string[]): "deno task" | "npm" | "wrapper" | "other" {
  const program = argv[0]?.split("/").pop() ?? "";
  if (program === "deno" && argv[1] === "task") return "deno task";
  // npm sets its process title to `npm exec …` (npx) or `npm run …`.
  if (/^npm (exec|run|x)\b/.test(argv[0] ?? "") || program === "npx") return "npm";
  if (SHELLS.has(program) && argv[1] === "-c") return "wrapper";
  if (program === "node" && argv[1]?.endsWith("/deno/bin.cjs")) return "wrapper";
  return "other";
}

/** Stops the watch. */
export interface LauncherWatch {
  close(): void;
}

/**
 * Calls `onGone` once with a reason when a link of `chain` exits or a
 * waiting shell in it is signalled. A pause of the whole process (SIGSTOP,
 * Ctrl-Z) only resets what a waiting shell is compared with.
 */
export function watchLauncher(
  chain: Link[],
  onGone: (reason: string) => void,
  intervalMs = LAUNCHER_POLL_MS,
): LauncherWatch {
  if (chain.length === 0) return { close: () => {} };
  let last = Date.now();
  let resumed = false;
  const onContinue = () => resumed = true;
  Deno.addSignalListener("SIGCONT", onContinue);
  const close = () => {
    clearInterval(timer);
    Deno.removeSignalListener("SIGCONT", onContinue);
  };
  // A shell that woke is only believed on the next tick: if the group was
  // stopped and continued meanwhile (Ctrl-Z and fg, SIGSTOP and SIGCONT), our
  // SIGCONT listener has run by then and the wake-up was for that.
  let suspect: string | undefined;
  const timer = setInterval(() => {
    const now = Date.now();
    const paused = resumed || now - last > intervalMs * 3;
    last = now;
    resumed = false;
    const found = check(chain, paused);
    if (found?.exited || (found && suspect)) {
      close();
      onGone(found.reason);
    }
    suspect = found?.reason;
  }, intervalMs);
  Deno.unrefTimer(timer);
  return { close };
}

/** A link that exited, or a waiting shell that woke up (compared with its last wait state). */
function check(chain: Link[], paused: boolean): { reason: string; exited: boolean } | undefined {
  for (const link of chain) {
    const stat = readStat(link.pid);
    if (!stat || stat.start !== link.start) {
      return { reason: `launcher ${link.comm} (pid ${link.pid}) exited`, exited: true };
    }
    if (!link.wait) continue;
    const now = waitState(link.pid, stat, link.wait.child);
    if (paused || !now) {
      link.wait = now;
    } else if (now.switches !== link.wait.switches) {
      return { reason: `launcher ${link.comm} (pid ${link.pid}) was signalled`, exited: false };
    }
  }
  return undefined;
}

/** A shell's context switch counts while `child` is its only child; otherwise undefined. */
function waitState(pid: number, stat: Stat, child: number): Link["wait"] {
  if (!SHELLS.has(stat.comm)) return undefined;
  const children = readText(`/proc/${pid}/task/${pid}/children`)?.trim();
  if (children !== String(child)) return undefined;
  const status = readText(`/proc/${pid}/status`) ?? "";
  const switches = [...status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)]
    .map((m) => m[1]).join("/");
  return switches ? { child, switches } : undefined;
}

function readStat(pid: number): Stat | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // "PID (COMM) STATE PPID PGRP …": COMM may hold spaces and parentheses.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  return {
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    start: fields[19],
  };
}

function readCmdline(pid: number): string[] {
  return (readText(`/proc/${pid}/cmdline`) ?? "").split("\0");
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
