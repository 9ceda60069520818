/**
 * The request checks SearchFilesByName and SearchFilesByContent share.
 *
 * @module
 */
import type { Repository } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** A search request's common fields. */
export interface SearchRequest {
  repository?: Repository | null;
  query: string;
  ref: Uint8Array;
}

/** Gitaly's checks, in its order; returns the repository path and the ref. */
export async function validateSearchRequest(
  deps: ServiceDeps,
  req: SearchRequest,
): Promise<{ repoPath: string; ref: string }> {
  const repoPath = await deps.locator.repoPath(req.repository);
  if (req.query.length === 0) throw invalidArgument("no query given");
  const ref = text(req.ref);
  if (ref.length === 0) throw invalidArgument("no ref given");
  if (ref.startsWith("-")) throw invalidArgument("invalid ref argument");
  return { repoPath, ref };
}
