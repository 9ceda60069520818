/**
 * `WalkRepos`: every git directory of a storage, depth first in name
 * order, with its modification time (to the nanosecond), as Praefect's
 * untracked-repository scan reads it. The walk does not descend into the
 * repositories it finds.
 *
 * @module
 */
import { join, relative } from "node:path";
import { wrapError } from "../../server/errors.ts";
import { isGitDirectory } from "../../server/locator.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** How many paths one `stat` run dates. */
const STAT_BATCH = 200;

/** Builds the handler. */
export function walkRepos(deps: ServiceDeps): Rpc<"gitaly.InternalGitaly", "WalkRepos"> {
  return serverStream(async (req, ctx, send) => {
    let storagePath: string;
    try {
      storagePath = deps.locator.storagePath(req.storage_name);
    } catch (error) {
      throw wrapError("looking up storage", error);
    }
    let batch: string[] = [];
    const flush = async () => {
      const times = await modificationTimes(batch);
      for (let i = 0; i < batch.length; i++) {
        await send({
          relative_path: relative(storagePath, batch[i]),
          modification_time: times[i],
        });
      }
      batch = [];
    };
    for await (const repo of gitDirectories(storagePath, ctx.signal)) {
      batch.push(repo);
      if (batch.length >= STAT_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  });
}

/** Git directories under `dir`, depth first, names in byte order. */
async function* gitDirectories(dir: string, signal: AbortSignal): AsyncGenerator<string> {
  signal.throwIfAborted();
  if (await isGitDirectory(dir)) {
    yield dir;
    return;
  }
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // removed while walking
    throw error;
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) yield* gitDirectories(join(dir, name), signal);
}

/** Modification times with nanoseconds (Deno's own stat stops at milliseconds). */
async function modificationTimes(paths: string[]): Promise<{ seconds: number; nanos: number }[]> {
  const out = await new Deno.Command("stat", {
    args: ["--printf", "%.9Y %n\\0", "--", ...paths],
    stdout: "piped",
    stderr: "null",
  }).output();
  const times = new Map<string, string>();
  for (const record of new TextDecoder().decode(out.stdout).split("\0")) {
    const space = record.indexOf(" ");
    if (space > 0) times.set(record.slice(space + 1), record.slice(0, space));
  }
  return paths.map((path) => {
    // A repository removed since it was found has no time; Gitaly would fail the walk there.
    const [seconds, fraction = "0"] = (times.get(path) ?? "0").split(".");
    return { seconds: Number(seconds), nanos: Number(fraction.padEnd(9, "0").slice(0, 9)) };
  });
}
