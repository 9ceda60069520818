/**
 * `RawPatch`: `git format-patch --stdout` of the commits between two, as
 * mail, signed `GitLab`, streamed as it is produced.
 *
 * @module
 */
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { validateLeftRight } from "./each_diff.ts";
import { streamRawOutput } from "./raw_output.ts";

/** Builds the handler. */
export function rawPatch(deps: ServiceDeps): Rpc<"gitaly.DiffService", "RawPatch"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await validateLeftRight(deps, req);
    await streamRawOutput(
      deps,
      repoPath,
      {
        name: "format-patch",
        flags: ["--stdout", "--signature=GitLab"],
        args: [`${req.left_commit_id}..${req.right_commit_id}`],
      },
      ctx.signal,
      (data) => send({ data }),
    );
  });
}
