/**
 * `CheckObjectsExist`: for each revision of each request, whether it names
 * an object, asked of one cat-file process per request; results batched by
 * message size across requests, as in Gitaly. A revision that is not a
 * valid revision is `InvalidArgument`.
 *
 * @module
 */
import { revisionProblem } from "../../git/revision.ts";
import type { CheckObjectsExistResponse_RevisionExistence, Init } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { SizeChunker } from "../shared/chunker.ts";

type Existence = Init<CheckObjectsExistResponse_RevisionExistence>;

/** Builds the handler. */
export function checkObjectsExist(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "CheckObjectsExist"> {
  return bidiStream(async (requests, ctx, send) => {
    let repoPath: string | undefined;
    const chunker = new SizeChunker<Existence>(
      "gitaly.CheckObjectsExistResponse.RevisionExistence",
      (revisions) => send({ revisions }),
    );
    for await (const request of requests) {
      repoPath ??= await deps.locator.repoPath(request.repository);
      const revisions = (request.revisions ?? []).map((r) => text(r));
      for (const revision of revisions) {
        const problem = revisionProblem(revision, { allowPathScoped: true });
        if (problem) {
          throw invalidArgument(`invalid revision: ${problem}`).withField("revision", revision);
        }
      }
      const infos = await deps.catfile.infoMany(repoPath, revisions, { signal: ctx.signal });
      for (const [i, info] of infos.entries()) {
        await chunker.add({ name: request.revisions[i], exists: info !== null });
      }
    }
    // Gitaly answers an empty stream with Internal "EOF"; it is the client's mistake.
    if (repoPath === undefined) throw invalidArgument("no request received");
    await chunker.flush();
  });
}
