/**
 * Revisions of the BlobService walks (`ListBlobs`, `ListLFSPointers`):
 * required, and each a revision, `rev:path` or a pseudo revision.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { invalidArgument } from "../../server/errors.ts";

/** Returns `revisions` once each is valid; throws Gitaly's `InvalidArgument` otherwise. */
export function validateWalkRevisions(revisions: string[] | null | undefined): string[] {
  if (!revisions || revisions.length === 0) throw invalidArgument("missing revisions");
  for (const revision of revisions) {
    validateRevision(revision, {
      allowPseudo: true,
      allowPathScoped: true,
      context: "invalid revision",
    });
  }
  return revisions;
}
