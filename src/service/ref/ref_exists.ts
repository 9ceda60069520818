import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import { ASK_GIT, readRef } from "../../git/ref_files.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { validateRefArgument } from "./for_each_ref.ts";

/**
 * `RefExists`: whether the reference (a full name under `refs/`) exists, as
 * `git show-ref --verify` answers: read from the ref files directly, the
 * object checked through the cat-file cache; git runs only where the files
 * say something unusual (or the object is missing, where git fails).
 */
export function refExists(deps: ServiceDeps): Rpc<"gitaly.RefService", "RefExists"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const ref = text(req.ref);
    if (!ref.startsWith("refs/")) throw invalidArgument("invalid refname");
    validateRefArgument(ref, "ref");
    const oid = await readRef(repoPath, ref);
    if (oid === null) return { value: false };
    if (oid !== ASK_GIT && await deps.catfile.info(repoPath, oid, { signal: ctx.signal })) {
      return { value: true };
    }
    return { value: await showRef(deps, repoPath, ref, ctx.signal) };
  });
}

/** `git show-ref --verify --quiet`: exit 0 it exists, 1 it does not; anything else fails. */
async function showRef(
  deps: ServiceDeps,
  repoPath: string,
  ref: string,
  signal: AbortSignal,
): Promise<boolean> {
  // Only the exit code answers: no pipe for stdout (`--quiet` prints nothing).
  const git = await deps.git.start({
    gitDir: repoPath,
    command: { name: "show-ref", flags: ["--verify", "--quiet"], args: [ref] },
    signal,
    stdout: "null",
  });
  const result = await git.wait();
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  throw new Error(`git show-ref failed with exit code ${result.code}: ${result.stderr.trim()}`);
}
