/**
 * `Fsck`: `git fsck` without progress or dangling-object noise; a failing
 * check answers with git's output in `error`, not with an error status.
 *
 * @module
 */
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function fsck(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "Fsck"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const result = await deps.git.run({
      gitDir: repoPath,
      command: { name: "fsck", flags: ["--no-progress", "--no-dangling"] },
      signal: ctx.signal,
      stderrLimit: 1024 * 1024,
    });
    if (result.code === 0) return {};
    // Gitaly interleaves both streams as git wrote them; we give stdout, then stderr.
    const output = new TextDecoder().decode(result.stdout) + result.stderr;
    return { error: new TextEncoder().encode(output) };
  });
}
