/**
 * The client's half of `SSHUploadPackWithSidechannel`: git's stdin goes
 * out as the framed request while the side-band response is split back
 * into stdout and stderr. Like Gitaly's client, it is done when the
 * response ends, whether or not stdin has.
 *
 * @module
 */
import type { ClientSidechannel } from "./client_conn.ts";
import { demultiplexSideband, type SidebandSinks } from "./sideband.ts";

/** Read size for the request; requests are small, but a big buffer costs nothing here. */
const STDIN_READ_SIZE = 64 * 1024;

/**
 * Runs one interactive exchange over `conn`: copies `stdin` as the request
 * (then a flush packet) and the response's bands into `sinks`. Resolves
 * when the response ends; rejects when either direction fails first.
 */
export async function proxyPktLine(
  conn: ClientSidechannel,
  stdin: ReadableStream<Uint8Array>,
  sinks: SidebandSinks,
): Promise<void> {
  const stop = new AbortController();
  const request = copyRequest(conn, stdin, stop.signal);
  const response = demultiplexSideband(conn.readable, sinks);
  try {
    await Promise.race([response, request.then(() => response)]);
  } finally {
    stop.abort(); // the server is done: stop reading stdin
    request.catch(() => {});
  }
}

async function copyRequest(
  conn: ClientSidechannel,
  stdin: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<void> {
  const reader = openReader(stdin);
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const chunk = await reader.read();
      if (chunk === null) break;
      await conn.write(chunk);
    }
    if (!signal.aborted) await conn.closeWrite();
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.release();
  }
}

/** A reader returning views valid until the next read (BYOB with one buffer when possible). */
function openReader(source: ReadableStream<Uint8Array>) {
  try {
    const byob = source.getReader({ mode: "byob" });
    let buffer = new Uint8Array(STDIN_READ_SIZE);
    return {
      read: async (): Promise<Uint8Array | null> => {
        const { value, done } = await byob.read(buffer);
        if (done || !value) return null;
        buffer = new Uint8Array(value.buffer);
        return value;
      },
      cancel: (reason?: unknown) => byob.cancel(reason),
      release: () => releaseQuietly(byob),
    };
  } catch {
    const reader = source.getReader();
    return {
      read: async (): Promise<Uint8Array | null> => {
        const { value, done } = await reader.read();
        return done ? null : value;
      },
      cancel: (reason?: unknown) => reader.cancel(reason),
      release: () => releaseQuietly(reader),
    };
  }
}

function releaseQuietly(reader: { releaseLock(): void }): void {
  try {
    reader.releaseLock();
  } catch {
    // A read is still pending on a cancelled stream; the stream is finished anyway.
  }
}
