/**
 * `FilterShasWithSignatures`: for each request, the given commit ids
 * whose commits carry a signature (GPG, X.509 or SSH), in request order;
 * ids that name no commit are left out. One response per request.
 *
 * @module
 */
import { parseCommit } from "../../git/commit_parser.ts";
import { SignatureType } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readObjectBytes } from "../shared/commits.ts";

/** Builds the handler. */
export function filterShasWithSignatures(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "FilterShasWithSignatures"> {
  return bidiStream(async (requests, ctx, send) => {
    let repoPath: string | undefined;
    for await (const request of requests) {
      repoPath ??= await deps.locator.repoPath(request.repository);
      const shas: Uint8Array[] = [];
      for (const sha of request.shas ?? []) {
        const revision = text(sha);
        if (revision === "" || revision.includes("\n")) continue;
        const object = await readObjectBytes(deps, repoPath, revision, ctx.signal);
        if (object?.type !== "commit") continue;
        if (parseCommit(object.oid, object.data).signature_type !== SignatureType.NONE) {
          shas.push(sha);
        }
      }
      await send({ shas });
    }
    // Gitaly answers an empty stream with Internal "EOF"; it is the client's mistake.
    if (repoPath === undefined) throw invalidArgument("no request received");
  });
}
