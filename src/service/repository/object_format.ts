/**
 * `ObjectFormat`: whether a repository hashes its objects with SHA-1 or
 * SHA-256.
 *
 * @module
 */
import { ObjectFormat } from "../../proto/types.ts";
import { detectObjectFormat } from "../../git/objectid.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function objectFormat(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "ObjectFormat"> {
  return unary(async (req) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const hash = await detectObjectFormat(deps.git, repoPath);
    return {
      format: hash.format === "sha256"
        ? ObjectFormat.OBJECT_FORMAT_SHA256
        : ObjectFormat.OBJECT_FORMAT_SHA1,
    };
  });
}
