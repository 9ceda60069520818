/**
 * Server side of a sidechannel: open a stream to the
 * calling client, announce `sidechannel` + id, wait for `ok`, then read the
 * pkt-line framed request up to its flush packet and write the response
 * raw.
 *
 * @module
 */
import type { Metadata } from "@grpc/grpc-js";
import type { BackchannelPeer } from "../backchannel/peer.ts";
import { concat, PrefixReader } from "../backchannel/prefix_reader.ts";
import { PktLineDecoder, PktLineError } from "../git/pktline.ts";
import type { YamuxStream } from "../yamux/stream.ts";
import { describeStreamError, SidechannelError, withDeadline } from "./errors.ts";
import {
  encodeSidechannelId,
  parseSidechannelId,
  SIDECHANNEL_MAGIC,
  SIDECHANNEL_METADATA_KEY,
  SIDECHANNEL_OK,
  SIDECHANNEL_TIMEOUT_MS,
  type SidechannelId,
} from "./protocol.ts";

/** Options of {@link openSidechannel}. */
export interface OpenSidechannelOptions {
  /** The call's signal: aborting fails the handshake and later resets the stream. */
  signal?: AbortSignal;
  /** Time allowed for the client's `ok` (default 5 s, as Gitaly). */
  timeoutMs?: number;
}

/**
 * Opens the sidechannel the caller asked for with metadata
 * `gitaly-sidechannel-id`, over the caller's own multiplexed connection
 * (`peer`; undefined for a plain connection). Throws
 * {@link SidechannelError} with Gitaly's message when it cannot.
 */
export async function openSidechannel(
  peer: BackchannelPeer | undefined,
  metadata: Metadata,
  options: OpenSidechannelOptions = {},
): Promise<ServerSidechannel> {
  const id = sidechannelIdOf(metadata);
  if (!peer) {
    throw new SidechannelError(
      "sidechannel: fail to extract yamux session: non-multiplexed connection",
    );
  }
  let stream: YamuxStream;
  try {
    stream = await peer.openStream();
  } catch (error) {
    throw new SidechannelError(`sidechannel: open stream: ${describeStreamError(error)}`, {
      cause: error,
    });
  }
  const reader = new PrefixReader(stream.readable);
  try {
    await handshake(stream, reader, id, options);
  } catch (error) {
    stream.reset();
    throw error;
  }
  return new ServerSidechannel(stream, reader, options.signal);
}

/**
 * The id in the call's metadata: the last value, as Gitaly reads it.
 * HTTP/2 here joins repeated headers with commas, so the last value is
 * the last comma-separated part.
 */
function sidechannelIdOf(metadata: Metadata): SidechannelId {
  const values = metadata.get(SIDECHANNEL_METADATA_KEY);
  if (values.length === 0) {
    throw new SidechannelError("sidechannel: sidechannel-id not found in incoming metadata");
  }
  const raw = values[values.length - 1];
  const last = (typeof raw === "string" ? raw : new TextDecoder().decode(raw)).split(",").pop()!;
  return parseSidechannelId(last.trim());
}

async function handshake(
  stream: YamuxStream,
  reader: PrefixReader,
  id: SidechannelId,
  options: OpenSidechannelOptions,
): Promise<void> {
  const writer = stream.writable.getWriter();
  const deadline = { signal: options.signal };
  const timeoutMs = options.timeoutMs ?? SIDECHANNEL_TIMEOUT_MS;
  try {
    await withDeadline(
      writer.write(concat(SIDECHANNEL_MAGIC, encodeSidechannelId(id))),
      timeoutMs,
      deadline,
    );
  } catch (error) {
    throw new SidechannelError(`sidechannel: write magic bytes: ${describeStreamError(error)}`, {
      cause: error,
    });
  } finally {
    writer.releaseLock();
  }
  let confirmation: Uint8Array;
  try {
    confirmation = await withDeadline(
      reader.readExactly(SIDECHANNEL_OK.length),
      timeoutMs,
      deadline,
    );
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new SidechannelError(
      `sidechannel: receive confirmation: ${describeStreamError(error)}`,
      { cause: error },
    );
  }
  if (confirmation[0] !== SIDECHANNEL_OK[0] || confirmation[1] !== SIDECHANNEL_OK[1]) {
    const text = new TextDecoder().decode(confirmation);
    throw new SidechannelError(`sidechannel: expected ok, got ${JSON.stringify(text)}`);
  }
}

/**
 * An open sidechannel, server end. Read the request from {@link request};
 * write the response with {@link write} (raw bytes, flow-controlled by the
 * client's window) and {@link close} when done. Aborting the signal given
 * at open resets the stream, which also fails a write that is waiting.
 */
export class ServerSidechannel {
  /** The Yamux stream underneath. */
  readonly stream: YamuxStream;
  /**
   * The client's request with its pkt-line framing removed; it ends at the
   * flush packet and errors on `0001`–`0003` or when the client stops early.
   */
  readonly request: ReadableStream<Uint8Array>;
  readonly #stopWatching: () => void;
  #closed = false;

  /** Takes over `stream` after the handshake; `reader` holds its readable. */
  constructor(stream: YamuxStream, reader: PrefixReader, signal?: AbortSignal) {
    this.stream = stream;
    this.request = unframeRequest(reader.rest());
    const onAbort = () => this.reset();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#stopWatching = () => signal?.removeEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
  }

  /**
   * Writes response bytes straight into the stream; resolves once they are
   * queued (the caller may reuse `chunk`). Await each write before the next.
   */
  write(chunk: Uint8Array): Promise<void> {
    return this.stream.write(chunk);
  }

  /** Half-closes after everything written so far (the client sees the end of the response). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatching();
    try {
      await this.stream.closeWrite();
    } catch (error) {
      throw new SidechannelError(describeStreamError(error), { cause: error });
    }
    // The request may be unread (git stopped early): drop what the client still sends.
    this.request.cancel().catch(() => {});
  }

  /** Aborts the stream both ways; for failures. No-op after {@link close}. */
  reset(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatching();
    this.stream.reset();
  }
}

/** Pkt-line framed bytes up to a flush packet → the payloads. */
function unframeRequest(framed: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const packets = framed.pipeThrough(new PktLineDecoder()).getReader();
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string) => {
    controller.error(new SidechannelError(message));
    packets.cancel().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        let next: ReadableStreamReadResult<import("../git/pktline.ts").PktLine>;
        try {
          next = await packets.read();
        } catch (error) {
          return fail(controller, requestErrorMessage(error));
        }
        if (next.done) return fail(controller, "unexpected EOF");
        const packet = next.value;
        if (packet.type === "flush") {
          controller.close();
          packets.cancel().catch(() => {}); // the request is complete
          return;
        }
        if (packet.type !== "data") {
          return fail(controller, `sidechannel: invalid header ${packet.type === "delim" ? 1 : 2}`);
        }
        if (packet.payload.byteLength === 0) continue;
        controller.enqueue(packet.payload);
        return;
      }
    },
    cancel: (reason) => packets.cancel(reason).catch(() => {}),
  }, { highWaterMark: 0 });
}

function requestErrorMessage(error: unknown): string {
  if (error instanceof PktLineError) {
    if (/length 3$/.test(error.message)) return "sidechannel: invalid header 3";
    if (/ended inside/.test(error.message)) return "unexpected EOF";
    return `sidechannel: ${error.message}`;
  }
  return describeStreamError(error);
}
