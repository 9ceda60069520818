/**
 * `GetBlob`: one blob by object id (or any revision cat-file resolves), in
 * chunks of at most 128 KiB; the first message carries the blob's size and
 * id. `limit` caps the content bytes (negative: all; 0: none). A revision
 * that names nothing, or names something other than a blob, is answered
 * with one empty message, as Gitaly does.
 *
 * @module
 */
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { ServiceDeps } from "../deps.ts";
import { locateWithObjects } from "../shared/object_dirs.ts";
import { contentChunks, discardContent, sendReadingAhead } from "../shared/object_content.ts";

/** Builds the handler. */
export function getBlob(deps: ServiceDeps): Rpc<"gitaly.BlobService", "GetBlob"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, env } = await locateWithObjects(deps.locator, req.repository);
    const oid = req.oid ?? "";
    if (oid === "") throw invalidArgument("empty Oid");
    if (oid.includes("\0")) {
      throw invalidArgument("read object: revision must not contain NUL bytes");
    }
    // cat-file reads one revision a line: one with a newline names nothing.
    const object = oid.includes("\n")
      ? null
      : await deps.catfile.object(repoPath, oid, { env, signal: ctx.signal });
    if (object === null) return await send({});
    if (object.type !== "blob") {
      await discardContent(object, ctx.signal);
      return await send({});
    }
    let first: { size: number; oid: string } | undefined = { size: object.size, oid: object.oid };
    const chunks = contentChunks(object, Number(req.limit ?? 0), ctx.signal, true);
    await sendReadingAhead(chunks, (data) => {
      const sent = send({ ...first, data });
      first = undefined;
      return sent;
    });
    if (first) await send(first);
  });
}
