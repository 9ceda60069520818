/**
 * `GetTagMessages`.
 *
 * @module
 */
import { chunkBytes } from "../../git/chunk.ts";
import { parseTag } from "../../git/tag_parser.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { readObjectBytes } from "../shared/commits.ts";

/**
 * `GetTagMessages`: for each of `tag_ids` (any revision naming an annotated
 * tag), in order, a message with the `tag_id` as given, then the tag's
 * whole message (signature included) in chunks of 128 KiB, as Gitaly sends
 * them. Gitaly's messages for a revision that names nothing or no tag; where
 * it answers `Internal`, these are `NotFound` and `InvalidArgument`.
 */
export function getTagMessages(deps: ServiceDeps): Rpc<"gitaly.RefService", "GetTagMessages"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    for (const tagId of req.tag_ids ?? []) {
      if (tagId.includes("\0")) {
        throw invalidArgument("getting tag: revision must not contain NUL bytes");
      }
      if (tagId.includes("\n")) {
        throw invalidArgument("getting tag: revision must not contain newlines");
      }
      const object = tagId === "" ? null : await readObjectBytes(deps, repoPath, tagId, ctx.signal);
      if (object === null) throw new GrpcError(Code.NOT_FOUND, "getting tag: object not found");
      if (object.type !== "tag") {
        throw invalidArgument(`getting tag: expected tag, got ${object.type}`);
      }
      const { tag } = parseTag(object.oid, object.data);
      await send({ tag_id: tagId });
      for (const message of chunkBytes(tag.message)) await send({ message });
    }
  });
}
