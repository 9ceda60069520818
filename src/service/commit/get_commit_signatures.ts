/**
 * `GetCommitSignatures`: for each signed commit among the given full
 * object ids, a message with its id, its signature (the first `gpgsig` or
 * `gpgsig-sha256` header: GPG, X.509 or SSH alike) and the signer, then the
 * signed text (the commit without that header) in 128 KiB messages.
 * Unsigned and missing commits are skipped.
 *
 * @module
 */
import { chunkBytes } from "../../git/chunk.ts";
import { extractCommitSignature } from "../../git/commit_parser.ts";
import { GetCommitSignaturesResponse_Signer } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { readObjectBytes } from "../shared/commits.ts";

const SHA1_HEX_LENGTH = 40;

/** Builds the handler. */
export function getCommitSignatures(
  deps: ServiceDeps,
): Rpc<"gitaly.CommitService", "GetCommitSignatures"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.commit_ids.length === 0) throw invalidArgument("empty CommitIds");
    for (const id of req.commit_ids) validateObjectId(id);
    for (const id of req.commit_ids) {
      const object = await readObjectBytes(deps, repoPath, `${id}^{commit}`, ctx.signal);
      if (object === null) continue;
      const signed = extractCommitSignature(object.data);
      if (signed === null || signed.signature.length === 0) continue;
      // Without a configured signing key no signature is the server's own.
      await send({
        commit_id: id,
        signature: signed.signature,
        signer: GetCommitSignaturesResponse_Signer.SIGNER_USER,
      });
      for (const chunk of chunkBytes(signed.signedText)) await send({ signed_text: chunk });
    }
  });
}

/** Gitaly's check of a full SHA-1 object id, with its messages. */
function validateObjectId(id: string): void {
  if (id.length !== SHA1_HEX_LENGTH) {
    throw invalidArgument(
      `invalid object ID: ${
        JSON.stringify(id)
      }, expected length ${SHA1_HEX_LENGTH}, got ${id.length}`,
    );
  }
  const bad = /[^0-9a-f]/.exec(id);
  if (bad) {
    throw invalidArgument(
      `invalid object ID: ${JSON.stringify(id)}, invalid character '${bad[0]}'`,
    );
  }
}
