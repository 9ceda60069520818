/**
 * `RawDiff`: `git diff --full-index` between two commits, streamed as it
 * is produced.
 *
 * @module
 */
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { validateLeftRight } from "./each_diff.ts";
import { streamRawOutput } from "./raw_output.ts";

/** Builds the handler. */
export function rawDiff(deps: ServiceDeps): Rpc<"gitaly.DiffService", "RawDiff"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await validateLeftRight(deps, req);
    await streamRawOutput(
      deps,
      repoPath,
      {
        name: "diff",
        flags: ["--full-index"],
        args: [req.left_commit_id, req.right_commit_id],
      },
      ctx.signal,
      (data) => send({ data }),
    );
  });
}
