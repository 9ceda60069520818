/**
 * `CommitsByMessage`: `git log --grep` (case-insensitive) from a revision,
 * the default branch when it is empty, optionally limited to a path, with
 * `offset` and `limit`; batched by size.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { defaultBranch } from "../ref/for_each_ref.ts";
import { sendLoggedCommits } from "./history.ts";

/** Builds the handler. */
export function commitsByMessage(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "CommitsByMessage"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    if (req.query === "") throw invalidArgument("empty Query");
    const flags = [`--grep=${req.query}`, "--regexp-ignore-case"];
    if (req.offset > 0) flags.push(`--skip=${req.offset}`);
    if (req.limit > 0) flags.push(`--max-count=${req.limit}`);
    if (revision === "") revision = await defaultBranch(deps, repoPath, ctx.signal);
    await sendLoggedCommits(deps, repoPath, {
      revisions: [revision],
      paths: req.path.length === 0 ? [] : [req.path],
      flags,
      globalOptions: req.global_options,
      signal: ctx.signal,
    }, (commits) => send({ commits }));
  });
}
