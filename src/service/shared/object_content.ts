/**
 * Reading object contents from the cat-file cache: in chunks up to a limit
 * (letting go of the rest so the process can serve the next request), or
 * whole for objects known to be small.
 *
 * @module
 */
import { chunkStream } from "../../git/chunk.ts";
import type { GitObject } from "../../git/catfile.ts";
import { PipelineCommandError } from "../../git/object_pipeline.ts";
import { CHUNK_POOL, describeExit } from "./git_stream.ts";
import { goQuote } from "./git_options.ts";

/**
 * Past the limit, a rest up to this size is read and dropped (the cat-file
 * process then goes back to the cache); a larger rest is cancelled, which
 * kills the process.
 */
const DRAIN_MAX = 1024 * 1024;

/**
 * Yields the first `limit` bytes of `object`'s content (all of it when
 * `limit` is negative) in fresh chunks of at most 128 KiB, pulled one by
 * one (backpressure), then disposes of the rest. With `lend`, the chunks
 * are views lent from a shared pool (see `src/proto/bulk_bytes.ts`): each
 * must go out in a response message, unkept, and the server frames it in
 * place when it is that message's only field.
 */
export async function* contentChunks(
  object: GitObject,
  limit: number,
  signal?: AbortSignal,
  lend = false,
): AsyncGenerator<Uint8Array, void, undefined> {
  let wanted = limit < 0 ? object.size : Math.min(limit, object.size);
  if (wanted === 0 && object.size > DRAIN_MAX) {
    await object.content.cancel();
    return;
  }
  let read = 0;
  const pool = lend ? CHUNK_POOL : undefined;
  for await (const chunk of chunkStream(object.content, { signal, pool })) {
    read += chunk.byteLength;
    if (wanted > 0) {
      const part = chunk.byteLength > wanted ? chunk.subarray(0, wanted) : chunk;
      wanted -= part.byteLength;
      yield part;
    }
    if (wanted === 0 && object.size - read > DRAIN_MAX) break; // cancels the rest
  }
}

/**
 * Sends every chunk of `chunks` with `send`, reading the next chunk while
 * the previous one is being sent (one chunk ahead, so memory stays
 * bounded): git's output and the client's connection are busy at once
 * instead of in turns. The chunks must stay valid after the next is read
 * (as {@link contentChunks}' do). Stops the source when sending fails.
 */
export async function sendReadingAhead(
  chunks: AsyncGenerator<Uint8Array, void, undefined>,
  send: (chunk: Uint8Array) => Promise<void>,
): Promise<void> {
  let next = chunks.next();
  try {
    while (true) {
      const result = await next;
      if (result.done) return;
      const sent = send(result.value);
      next = chunks.next();
      // A failed read is reported by the await above on the next turn.
      next.catch(() => {});
      await sent;
    }
  } catch (error) {
    // Let a pending read settle before closing the generator (it runs one step at a time).
    await next.catch(() => {});
    await chunks.return(undefined).catch(() => {});
    throw error;
  }
}

/** Lets go of `object`'s content: read and dropped when small, else cancelled. */
export async function discardContent(object: GitObject, signal?: AbortSignal): Promise<void> {
  for await (const _ of contentChunks(object, 0, signal)) {
    // nothing is yielded
  }
}

/** Reads `object`'s whole content into memory: for objects known to be small. */
export async function readContent(object: GitObject, signal?: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(object.size);
  let offset = 0;
  for await (const chunk of chunkStream(object.content, { signal })) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Gitaly's message for a failed enumeration step, e.g.
 * `rev-list pipeline command: exit status 128, stderr: "fatal: …"`; other
 * errors are returned unchanged.
 */
export function pipelineFailure(error: unknown): unknown {
  if (!(error instanceof PipelineCommandError)) return error;
  const how = `${describeExit(error.exit)}, stderr: ${goQuote(error.exit.stderr)}`;
  const message = error.step === "rev-list"
    ? `rev-list pipeline command: ${how}`
    : `${error.step} failed: ${how}`;
  return new Error(message, { cause: error });
}
