import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { validateRefArgument } from "./for_each_ref.ts";

/** `RefExists`: whether the reference (a full name under `refs/`) exists (`git show-ref --verify`). */
export function refExists(deps: ServiceDeps): Rpc<"gitaly.RefService", "RefExists"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const ref = text(req.ref);
    if (!ref.startsWith("refs/")) throw invalidArgument("invalid refname");
    validateRefArgument(ref, "ref");
    // Only the exit code answers: no pipe for stdout (`--quiet` prints nothing).
    const git = await deps.git.start({
      gitDir: repoPath,
      command: { name: "show-ref", flags: ["--verify", "--quiet"], args: [ref] },
      signal: ctx.signal,
      stdout: "null",
    });
    const result = await git.wait();
    if (result.code === 0) return { value: true };
    if (result.code === 1) return { value: false };
    throw new Error(`git show-ref failed with exit code ${result.code}: ${result.stderr.trim()}`);
  });
}
