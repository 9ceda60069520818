/**
 * The client's sidechannel registry: a caller registers a callback, sends
 * the waiter's id as `gitaly-sidechannel-id` with its RPC, and the
 * callback runs when the server opens the matching stream. Streams with an
 * unknown id are closed.
 *
 * @module
 */
import type { IncomingStreamHandler } from "../backchannel/client.ts";
import type { PrefixReader } from "../backchannel/prefix_reader.ts";
import type { YamuxStream } from "../yamux/stream.ts";
import { ClientSidechannel } from "./client_conn.ts";
import { CallbackDidNotRunError, withDeadline } from "./errors.ts";
import {
  decodeSidechannelId,
  SIDECHANNEL_ID_LENGTH,
  SIDECHANNEL_MAGIC_TEXT,
  SIDECHANNEL_METADATA_KEY,
  SIDECHANNEL_OK,
  SIDECHANNEL_TIMEOUT_MS,
  type SidechannelId,
} from "./protocol.ts";

/** Talks to the server over an accepted sidechannel; its result becomes the waiter's. */
export type SidechannelCallback<T> = (conn: ClientSidechannel) => Promise<T>;

/** Keeps the waiters of one client (share it across calls and connections). */
export class SidechannelRegistry {
  readonly #waiters = new Map<SidechannelId, SidechannelWaiter<unknown>>();
  #nextId: SidechannelId = 0n;

  /**
   * Registers `callback` under a fresh id. Send `waiter.metadata` with the
   * RPC, and `close()` the waiter when the RPC is over.
   */
  register<T>(callback: SidechannelCallback<T>): SidechannelWaiter<T> {
    const id = this.#nextId;
    this.#nextId = BigInt.asIntN(64, id + 1n);
    const waiter = new SidechannelWaiter(id, callback, () => this.#waiters.delete(id));
    this.#waiters.set(id, waiter as SidechannelWaiter<unknown>);
    return waiter;
  }

  /** Waiters whose sidechannel has not arrived yet. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * The handler to register for the `sidechannel` magic with the
   * backchannel client (see `BackchannelClientOptions.handlers`).
   */
  get handlers(): Record<string, IncomingStreamHandler> {
    return { [SIDECHANNEL_MAGIC_TEXT]: (stream, reader) => this.#accept(stream, reader) };
  }

  /** Reads the id after the magic and hands the stream to its waiter, or closes it. */
  #accept(stream: YamuxStream, reader: PrefixReader): void {
    reader.readExactly(SIDECHANNEL_ID_LENGTH).then(
      (bytes) => this.#deliver(decodeSidechannelId(bytes), stream, reader),
      () => stream.reset(),
    );
  }

  #deliver(id: SidechannelId, stream: YamuxStream, reader: PrefixReader): void {
    const waiter = this.#waiters.get(id);
    if (!waiter) {
      refuse(stream, reader);
      return;
    }
    this.#waiters.delete(id);
    waiter.run(stream, reader);
  }
}

/** An unknown id: close our side and stop reading, as Gitaly's client does. */
function refuse(stream: YamuxStream, reader: PrefixReader): void {
  reader.cancel().catch(() => {});
  stream.closeWrite().catch(() => stream.reset());
}

/** One registered callback and, once it ran, its outcome. */
export class SidechannelWaiter<T> {
  /** The id the server will present. */
  readonly id: SidechannelId;
  readonly #callback: SidechannelCallback<T>;
  readonly #deregister: () => void;
  #outcome?: Promise<T>;
  #closed = false;

  /** Created by {@link SidechannelRegistry.register}. */
  constructor(id: SidechannelId, callback: SidechannelCallback<T>, deregister: () => void) {
    this.id = id;
    this.#callback = callback;
    this.#deregister = deregister;
  }

  /** The request metadata that names this sidechannel. */
  get metadata(): Record<string, string> {
    return { [SIDECHANNEL_METADATA_KEY]: this.id.toString() };
  }

  /** True once the server connected and the callback started. */
  get started(): boolean {
    return this.#outcome !== undefined;
  }

  /**
   * Deregisters the waiter. Resolves with the callback's result (waiting
   * for it to finish) or rejects with its error; rejects with
   * {@link CallbackDidNotRunError} when the server never connected.
   */
  close(): Promise<T> {
    this.#closed = true;
    this.#deregister();
    return this.#outcome ?? Promise.reject(new CallbackDidNotRunError());
  }

  /** @internal The server connected: confirm with `ok`, run the callback, close the stream. */
  run(stream: YamuxStream, reader: PrefixReader): void {
    if (this.#closed) {
      refuse(stream, reader);
      return;
    }
    this.#outcome = this.#serve(stream, reader);
    this.#outcome.catch(() => {}); // reported through close()
  }

  async #serve(stream: YamuxStream, reader: PrefixReader): Promise<T> {
    const writer = stream.writable.getWriter();
    try {
      await withDeadline(writer.write(SIDECHANNEL_OK), SIDECHANNEL_TIMEOUT_MS);
    } catch (error) {
      stream.reset();
      throw error;
    } finally {
      writer.releaseLock();
    }
    const conn = new ClientSidechannel(stream, reader);
    try {
      return await this.#callback(conn);
    } catch (error) {
      conn.reset();
      throw error;
    } finally {
      await conn.close();
    }
  }
}
