/**
 * `CreateBundle`: a bundle of every ref of the repository (`git bundle
 * create - --all`), streamed in chunks as git writes it. An empty
 * repository has nothing to bundle: `Internal`, as from Gitaly.
 *
 * @module
 */
import { Code } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sendBundle } from "./bundle.ts";

/** Builds the handler. */
export function createBundle(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "CreateBundle"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    await sendBundle(
      deps,
      repoPath,
      { emptyCode: Code.INTERNAL, signal: ctx.signal },
      (data) => send({ data }),
    );
  });
}
