/**
 * `CheckBlobsGenerated` (bidi): for each blob named by a revision (e.g.
 * `main:path`), whether it is generated code by its path and its first
 * 2 KiB, with go-enry's rules on linguist's data; at least one answer
 * message per request message.
 *
 * @module
 */
import { revisionProblem } from "../../git/revision.ts";
import { linguist } from "../../linguist/mod.ts";
import type { CheckBlobsGeneratedResponse_Blob, Init } from "../../proto/types.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { text } from "../shared/bytes.ts";
import { firstRequest } from "../shared/git_stream.ts";

/** How much of a blob the check reads. */
const PEEK_SIZE = 2048;

/** Builds the handler. */
export function checkBlobsGenerated(
  deps: ServiceDeps,
): Rpc<"gitaly.AnalysisService", "CheckBlobsGenerated"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    const detector = await linguist();
    const chunker = new SizeChunker<Init<CheckBlobsGeneratedResponse_Blob>>(
      "gitaly.CheckBlobsGeneratedResponse.Blob",
      (blobs) => send({ blobs }),
    );
    for (let request = first;;) {
      if (request.blobs.length === 0) throw invalidArgument("validating request: empty blobs");
      for (const blob of request.blobs) {
        const problem = revisionProblem(text(blob.revision), { allowPathScoped: true });
        if (problem) throw invalidArgument(`validating request: ${problem}`);
        if (text(blob.path) === "") throw invalidArgument("validating request: empty path");
      }
      for (const blob of request.blobs) {
        const object = await deps.catfile.object(repoPath, text(blob.revision), {
          signal: ctx.signal,
        });
        if (!object) throw internal("reading object: object not found");
        if (object.type !== "blob") {
          await object.content.cancel();
          throw invalidArgument("object is not a blob");
        }
        const head = await readHead(object.content, PEEK_SIZE);
        await chunker.add({
          revision: blob.revision,
          generated: detector.isGenerated(text(blob.path), head),
        });
      }
      await chunker.flush(); // one answer at least per request
      const next = await rest.next();
      if (next.done) break;
      request = next.value;
    }
  });
}

/** The first `size` bytes of `stream`; the rest is read and dropped (cat-file must reach the end). */
async function readHead(stream: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> {
  const head = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of stream) {
    if (filled < size) {
      const take = Math.min(size - filled, chunk.byteLength);
      head.set(chunk.subarray(0, take), filled);
      filled += take;
    }
  }
  return head.subarray(0, filled);
}
