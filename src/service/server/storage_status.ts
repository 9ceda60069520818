/**
 * Facts about a storage directory: readable, writeable, filesystem id
 * (kept in `.gitaly-metadata` like Gitaly), and disk usage from `df`.
 *
 * @module
 */
import { join } from "node:path";

const METADATA_FILE = ".gitaly-metadata";

/** Whether the storage can be listed and a file written into it. */
export async function storageAccess(
  path: string,
): Promise<{ readable: boolean; writeable: boolean }> {
  const readable = await Deno.stat(path).then((s) => s.isDirectory, () => false);
  const probe = join(path, "+testWrite");
  const writeable = await Deno.writeTextFile(probe, "testWrite").then(() => true, () => false);
  await Deno.remove(probe).catch(() => {});
  return { readable, writeable };
}

/** The storage's filesystem id, created (a random UUID) the first time. */
export async function filesystemId(path: string): Promise<string> {
  const file = join(path, METADATA_FILE);
  try {
    const id = JSON.parse(await Deno.readTextFile(file)).gitaly_filesystem_id;
    if (typeof id === "string" && id) return id;
  } catch {
    // Missing or unreadable: write a new one below.
  }
  const id = crypto.randomUUID();
  const tmp = `${file}.${id}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify({ gitaly_filesystem_id: id }));
  await Deno.rename(tmp, file);
  return id;
}

/** Available and used bytes of the filesystem holding `path`, from `df`. */
export async function diskUsage(path: string): Promise<{ available: number; used: number }> {
  const out = await new Deno.Command("df", {
    args: ["-P", "-B1", path],
    stdout: "piped",
    stderr: "null",
    env: { LC_ALL: "C" },
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  const fields = line.split(/\s+/);
  if (!out.success || fields.length < 4) throw new Error(`df failed for ${path}`);
  return { used: Number(fields[2]), available: Number(fields[3]) };
}

/** The filesystem type name of `path` (e.g. `ext4`), or "unknown". */
export async function filesystemType(path: string): Promise<string> {
  const out = await new Deno.Command("stat", {
    args: ["-f", "-c", "%T", path],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  const name = out?.success ? new TextDecoder().decode(out.stdout).trim() : "";
  return name || "unknown";
}
