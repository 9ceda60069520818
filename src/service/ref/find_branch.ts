import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit } from "../shared/commits.ts";
import { validateRefArgument } from "./for_each_ref.ts";

/**
 * `FindBranch`: the branch `refs/heads/<name>` with its commit, or an empty
 * response when there is no such branch.
 */
export function findBranch(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindBranch"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const name = text(req.name);
    if (name === "") throw invalidArgument("Branch name cannot be empty");
    validateRefArgument(name, "branch name", true);
    const ref = `refs/heads/${name}`;
    const listing = await deps.git.runOk({
      gitDir: repoPath,
      command: {
        name: "for-each-ref",
        flags: ["--format=%(refname)%00%(objectname)", "--count=1"],
        postSepArgs: [ref],
      },
      signal: ctx.signal,
    });
    const line = new TextDecoder().decode(listing.stdout).replace(/\n$/, "");
    if (line === "") return {};
    const [found, oid] = line.split("\0");
    if (found !== ref) {
      throw invalidArgument(
        `target reference is ambiguous: reference is ambiguous: conflicts with ${
          JSON.stringify(found)
        }`,
      );
    }
    const commit = await readCommit(deps, repoPath, oid, ctx.signal);
    if (commit === null) throw new Error(`object not found: ${oid}^{commit}`);
    return { branch: { name: req.name, target_commit: commit } };
  });
}
