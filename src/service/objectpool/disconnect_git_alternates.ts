/**
 * `DisconnectGitAlternates`: makes a pool member stand alone again: every
 * file of the pool's object directory is hard-linked into the member's
 * (packs' `.keep` first, then `.pack`, then `.idx`, as git's own object
 * migration orders them), the alternates file is set aside, and only if
 * the member is then complete (`rev-list --objects --all`) is it left
 * out; otherwise it is put back.
 *
 * @module
 */
import { dirname, isAbsolute, join, relative } from "node:path";
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function disconnectGitAlternates(
  deps: ServiceDeps,
): Rpc<"gitaly.ObjectPoolService", "DisconnectGitAlternates"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const alternatesFile = join(repoPath, "objects", "info", "alternates");
    const content = await Deno.readTextFile(alternatesFile).catch(() => undefined);
    const dirs = (content ?? "").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    if (dirs.length === 0) return {};
    if (dirs.length > 1) throw internal("multiple alternate object directories");
    const altDir = isAbsolute(dirs[0]) ? dirs[0] : join(repoPath, "objects", dirs[0]);
    const info = await Deno.stat(altDir).catch(() => null);
    if (!info) throw internal(`stat ${altDir}: no such file or directory`);
    if (!info.isDirectory) throw internal("alternate object entry is not a directory");

    const files = await objectFiles(altDir);
    for (const file of files) {
      const target = join(repoPath, "objects", file);
      await Deno.mkdir(dirname(target), { recursive: true });
      await Deno.link(join(altDir, file), target).catch((error) => {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      });
    }
    const backup = `${alternatesFile}.${Math.floor(Date.now() / 1000)}.${
      crypto.randomUUID().replaceAll("-", "").slice(0, 12)
    }`;
    await Deno.rename(alternatesFile, backup);
    const check = await deps.git.run({
      gitDir: repoPath,
      command: { name: "rev-list", flags: ["--objects", "--all", "--quiet"] },
      signal: ctx.signal,
    }).catch((error) => ({ code: -1, stderr: String(error) }));
    if (check.code !== 0) {
      // Put a copy back, keeping the backup for whoever investigates.
      const tmp = `${backup}.2`;
      await Deno.link(backup, tmp);
      await Deno.rename(tmp, alternatesFile);
      throw internal(`git connectivity error while disconnected: exit status ${check.code}`);
    }
    return {};
  });
}

/** The object directory's files (not `info/`), in git's migration order. */
async function objectFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      if (rel === "info" || rel.startsWith("info/")) continue;
      if (entry.isDirectory) await walk(path);
      else out.push(rel);
    }
  };
  await walk(root);
  const priority = (name: string) => {
    if (!name.startsWith("pack")) return 0;
    if (name.endsWith(".keep")) return 1;
    if (name.endsWith(".pack")) return 2;
    if (name.endsWith(".idx")) return 3;
    return 4;
  };
  return out.sort((a, b) => priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0));
}
