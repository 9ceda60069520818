/**
 * A byte stream in front of a child's stdout that tells the owner when the
 * consumer gives up, and that can be failed when the process is killed.
 *
 * @module
 */

/** Size of the buffers handed out to readers that do not bring their own. */
const AUTO_CHUNK_SIZE = 64 * 1024;

/** A guarded stdout and the switch that fails it. */
export interface GuardedStdout {
  /** The stream handed to consumers (a byte stream: BYOB readers work). */
  readonly stream: ReadableStream<Uint8Array>;
  /** Errors the stream with `reason` unless it already ended. */
  fail(reason: unknown): void;
}

/**
 * Wraps `inner` (a byte stream) so that cancelling the result calls
 * `onCancel` first. BYOB reads pass the caller's buffer straight through to
 * the inner stream, so nothing is copied.
 */
export function guardStdout(
  inner: ReadableStream<Uint8Array>,
  onCancel: (reason: unknown) => void,
): GuardedStdout {
  const reader = inner.getReader({ mode: "byob" });
  let controller!: ReadableByteStreamController;
  let ended = false;

  const fail = (reason: unknown): void => {
    if (ended) return;
    ended = true;
    try {
      controller.error(reason);
    } catch {
      // The stream had already closed or errored.
    }
    reader.cancel(reason).catch(() => {});
  };

  const source: UnderlyingByteSource = {
    type: "bytes",
    autoAllocateChunkSize: AUTO_CHUNK_SIZE,
    start(c) {
      controller = c;
    },
    async pull(c) {
      // autoAllocateChunkSize guarantees a request for default readers too.
      const request = c.byobRequest!;
      const view = request.view!;
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      } catch (error) {
        fail(error);
        return;
      }
      if (ended) return;
      if (!result.done) {
        request.respondWithNewView(result.value);
        return;
      }
      if (result.value === undefined) {
        fail(new Error("git stdout ended without returning the read buffer"));
        return;
      }
      ended = true;
      c.close();
      // A closed byte stream still owes the pending BYOB read an empty answer.
      request.respondWithNewView(result.value);
    },
    cancel(reason) {
      ended = true;
      onCancel(reason);
      return reader.cancel(reason);
    },
  };
  return { stream: new ReadableStream(source), fail };
}
