/**
 * `CreateBundleFromRefList`: a bundle of what the streamed revision
 * patterns select (`git bundle create - --ignore-missing --stdin`), sent
 * back as git writes it. Patterns naming nothing are ignored; a bundle that
 * would be empty is `FailedPrecondition`, as from Gitaly. `--not` and the
 * pseudo revisions `--all`, `--branches`, `--tags` and `--remotes` work as
 * with a newer git (see {@link StdinPatterns}).
 *
 * @module
 */
import { Code } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { sendBundle, StdinPatterns } from "./bundle.ts";

/** Builds the handler. */
export function createBundleFromRefList(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateBundleFromRefList"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    const patterns = new StdinPatterns(deps, repoPath, ctx.signal);
    let pending: typeof first | undefined = first;
    let badPatterns: unknown;
    const stdin = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const request = pending ?? (await rest.next()).value;
        pending = undefined;
        if (!request) return controller.close();
        try {
          controller.enqueue(await patterns.lines(request.patterns));
        } catch (err) {
          badPatterns = err;
          controller.error(err);
        }
      },
      cancel() {
        rest.return?.().catch(() => {});
      },
    }, { highWaterMark: 0 });
    try {
      await sendBundle(
        deps,
        repoPath,
        { stdin, emptyCode: Code.FAILED_PRECONDITION, signal: ctx.signal },
        (data) => send({ data }),
      );
    } catch (err) {
      throw badPatterns ?? err;
    }
  });
}
