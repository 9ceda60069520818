/**
 * `GetFileAttributes`: the gitattributes of paths as a revision's
 * `.gitattributes` files (and `info/attributes`) define them; unspecified
 * attributes are left out.
 *
 * (Through `checkAttributes`, which reads the revision's tree into a
 * temporary index for git 2.39's `check-attr --cached`.)
 *
 * @module
 */
import { checkAttributes } from "../../git/attributes.ts";
import { validateRevision } from "../../git/revision.ts";
import type { GetFileAttributesResponse_AttributeInfo, Init } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { makeStorageTempDir } from "../shared/storage.ts";

/** Builds the handler. */
export function getFileAttributes(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetFileAttributes"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    if (revision === "") throw invalidArgument("revision is required");
    validateRevision(revision, { context: "revision" });
    if (req.attributes.length === 0) throw invalidArgument("attributes are required");
    if (req.paths.length === 0) throw invalidArgument("file paths are required");
    for (const path of req.paths) {
      if (path.includes("\0")) {
        throw new GrpcError(Code.INTERNAL, "check attr: path with NUL byte not allowed");
      }
    }
    const storagePath = deps.locator.storagePath(req.repository?.storage_name);
    const tempDir = await makeStorageTempDir(storagePath, "attributes-");
    try {
      const encoder = new TextEncoder();
      const found = await checkAttributes(
        deps.git,
        repoPath,
        revision,
        req.paths.map((p) => encoder.encode(p)),
        req.attributes,
        { tempDir, signal: ctx.signal },
      ).catch((error) => {
        throw wrapError("check attr", error);
      });
      const infos: Init<GetFileAttributesResponse_AttributeInfo>[] = [];
      for (const path of req.paths) {
        const attributes = found.get(path) ?? {};
        for (const attribute of req.attributes) {
          if (attribute in attributes) {
            infos.push({ path, attribute, value: attributes[attribute] });
          }
        }
      }
      return { attribute_infos: infos };
    } finally {
      await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    }
  });
}
