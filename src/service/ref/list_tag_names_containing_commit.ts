/**
 * `ListTagNamesContainingCommit`.
 *
 * @module
 */
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sendNamesContaining } from "./names_containing.ts";

/**
 * `ListTagNamesContainingCommit`: the names (without `refs/tags/`) of the
 * tags whose history contains `commit_id`, at most `limit` (0: no limit),
 * sorted, in messages of up to 1 MiB as Gitaly sends them.
 */
export function listTagNamesContainingCommit(
  deps: ServiceDeps,
): Rpc<"gitaly.RefService", "ListTagNamesContainingCommit"> {
  return serverStream(async (req, ctx, send) => {
    await sendNamesContaining(deps, req, ctx, "refs/tags/", (tag_names) => send({ tag_names }));
  });
}
