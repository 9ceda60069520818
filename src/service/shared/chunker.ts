/**
 * The one way list responses are batched into messages, as Gitaly batches
 * them: by encoded size (a message is sent before it would reach 1 MiB, like
 * Gitaly's `chunk.Chunker`) or by count (20 items a message, like Gitaly's
 * `lines.Send` for reference lists). Raw byte streams use
 * `src/git/chunk.ts` instead.
 *
 * @module
 */
import { repeatedField } from "../../proto/encoded_message.ts";
import type { EncodedResponses } from "../../proto/encoded_responses.ts";
import { encodedSize } from "../../proto/encoded.ts";
import { messageType } from "../../proto/mod.ts";

/** Gitaly's limit on one batched message's encoded size. */
export const MAX_MESSAGE_SIZE = 1024 * 1024;

/** Gitaly's item count per message for reference lists. */
export const ITEMS_PER_MESSAGE = 20;

/** Sends one batch; awaited, so it applies backpressure. */
export type BatchSender<Item> = (items: Item[]) => Promise<void>;

/**
 * Batches items by encoded size. `itemType` is the item's message type
 * (e.g. `gitaly.Branch`) or a function giving an item's size in bytes.
 *
 * ```ts
 * const chunker = new SizeChunker("gitaly.Tag", (tags) => send({ tags }));
 * for (const tag of tags) await chunker.add(tag);
 * await chunker.flush();
 * ```
 */
export class SizeChunker<Item> {
  #items: Item[] = [];
  #size = 0;
  readonly #sizeOf: (item: Item) => number;

  constructor(
    itemType: string | ((item: Item) => number),
    readonly sendBatch: BatchSender<Item>,
    readonly maxSize: number = MAX_MESSAGE_SIZE,
  ) {
    if (typeof itemType === "function") {
      this.#sizeOf = itemType;
    } else {
      const type = messageType(itemType);
      this.#sizeOf = (item) => encodedSize(type, item);
    }
  }

  /** Adds an item, sending the current batch first when the item would make it too big. */
  async add(item: Item): Promise<void> {
    const size = this.#sizeOf(item);
    if (this.#items.length > 0 && this.#size + size >= this.maxSize) await this.#send();
    this.#items.push(item);
    this.#size += size;
  }

  /** Sends what is left, if anything. */
  async flush(): Promise<void> {
    if (this.#items.length > 0) await this.#send();
  }

  async #send(): Promise<void> {
    const items = this.#items;
    this.#items = [];
    this.#size = 0;
    await this.sendBatch(items);
  }
}

/**
 * Batches items that are already encoded (each sized by its encoding, as
 * {@link SizeChunker} sizes them) into pre-encoded messages whose repeated
 * field `fieldId` holds them: each item is encoded once, and a batch is
 * only concatenated.
 */
export class EncodedChunker {
  #items: Uint8Array[] = [];
  #size = 0;

  constructor(
    readonly fieldId: number,
    readonly sendMessage: (message: EncodedResponses) => Promise<void>,
    readonly maxSize: number = MAX_MESSAGE_SIZE,
  ) {}

  /**
   * Adds an encoded item, sending the current batch first when the item
   * would make it too big: then returns the send to await (backpressure).
   */
  add(item: Uint8Array): Promise<void> | undefined {
    const sent = this.#items.length > 0 && this.#size + item.byteLength >= this.maxSize
      ? this.#send()
      : undefined;
    this.#items.push(item);
    this.#size += item.byteLength;
    return sent;
  }

  /** Sends what is left, if anything. */
  async flush(): Promise<void> {
    if (this.#items.length > 0) await this.#send();
  }

  #send(): Promise<void> {
    const items = this.#items;
    this.#items = [];
    this.#size = 0;
    return this.sendMessage(repeatedField(this.fieldId, items));
  }
}

/** Batches items by count (default {@link ITEMS_PER_MESSAGE}). */
export class CountChunker<Item> {
  #items: Item[] = [];

  constructor(readonly sendBatch: BatchSender<Item>, readonly perMessage = ITEMS_PER_MESSAGE) {}

  /** Adds an item, sending the batch once it holds `perMessage` items. */
  async add(item: Item): Promise<void> {
    this.#items.push(item);
    if (this.#items.length >= this.perMessage) await this.flush();
  }

  /** Sends what is left, if anything. */
  async flush(): Promise<void> {
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    await this.sendBatch(items);
  }
}
