import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { defaultBranch, headReference } from "./for_each_ref.ts";

const encoder = new TextEncoder();

/**
 * `FindDefaultBranchName`: the default branch as Gitaly picks it (the only
 * branch; HEAD's branch; `main`; `master`; the first by name; empty without
 * branches), or with `head_only` simply what HEAD points at.
 */
export function findDefaultBranchName(
  deps: ServiceDeps,
): Rpc<"gitaly.RefService", "FindDefaultBranchName"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.head_only) {
      const head = await headReference(deps, repoPath, ctx.signal);
      if (head === null) throw new Error("head reference: HEAD is not a symbolic reference");
      return { name: encoder.encode(head) };
    }
    return { name: encoder.encode(await defaultBranch(deps, repoPath, ctx.signal)) };
  });
}
