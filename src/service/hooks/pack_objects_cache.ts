/**
 * The pack-objects cache (Gitaly's `[pack_objects_cache]`, its
 * streamcache): the output of one `git pack-objects` run is written to a
 * file under the cache directory while every request with the same key
 * reads that file as it grows, so identical concurrent fetches run
 * pack-objects once and get the same bytes. The producer runs on its own,
 * detached from the request that started it (another may be waiting on
 * it), and writes as fast as git produces; each reader goes at its own
 * client's pace. An entry serves new requests for `max_age` after it was
 * created; its file is removed once it expired and nobody reads it. As in
 * Gitaly, a key is cached only once it was requested `min_occurrences`
 * times before within `max_age`; those earlier requests stream straight
 * from their own pack-objects.
 *
 * @module
 */
import { join } from "node:path";

/** Receives one chunk; resolves once the next may be delivered. */
export type ByteSink = (chunk: Uint8Array) => Promise<void>;

/** Writes an entry's content through `write`; rejects when that failed. */
export type Producer = (write: ByteSink, signal: AbortSignal) => Promise<void>;

/** Counts the cache reports. */
export interface PackObjectsCacheObserver {
  /** A request found a usable entry (hit) or started a producer (miss). */
  onLookup?(hit: boolean): void;
  /** Entries in the cache changed to `count`. */
  onEntries?(count: number): void;
  /** Bytes sent to one client. */
  onServed?(bytes: number): void;
  /** Bytes one pack-objects run produced. */
  onGenerated?(bytes: number): void;
}

/**
 * A reader that reads an entry's file itself (instead of getting its
 * bytes through a sink), so a hit's content does not pass through this
 * process: told the file's path and how much of it is there, as it grows.
 */
export interface FileFollower {
  /** The file now holds `size` bytes of the content; the last call gives the final size. */
  grown(path: string, size: number): Promise<void>;
  /** Resolves once the reader no longer needs the file (it is kept until then). */
  released: Promise<void>;
}

/** How a fetch went. */
export interface FetchResult {
  /** Bytes the request got. */
  served: number;
  /** This request ran the producer. */
  created: boolean;
}

/** Settings of the cache (from `[pack_objects_cache]`). */
export interface PackObjectsCacheOptions {
  /** Off: every request runs its own producer, straight into its sink. */
  enabled: boolean;
  dir: string;
  maxAgeMs: number;
  minOccurrences: number;
  observer?: PackObjectsCacheObserver;
}

/** How much a reader reads from an entry's file at a time. */
const READ_SIZE = 256 * 1024;

/** One cached output: a file that grows until its producer is done. */
class Entry {
  size = 0;
  done = false;
  error?: Error;
  expired = false;
  readers = 0;
  #changed = Promise.withResolvers<void>();

  constructor(readonly path: string, readonly file: Deno.FsFile) {}

  /** Appends `chunk` to the file; readers learn of it. */
  async append(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength;) {
      at += await this.file.write(chunk.subarray(at));
    }
    this.size += chunk.byteLength;
    this.#notify();
  }

  /** The producer ended (with `error` if it failed). */
  finish(error?: Error): void {
    this.done = true;
    this.error = error;
    this.file.close();
    this.#notify();
  }

  /** Resolves at the next append or the end. */
  changed(): Promise<void> {
    return this.#changed.promise;
  }

  #notify(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
  }
}

/** See the module documentation. */
export class PackObjectsCache {
  readonly #options: PackObjectsCacheOptions;
  readonly #entries = new Map<string, Entry>();
  /** Entries whose file is being created. */
  readonly #creating = new Map<string, Promise<Entry>>();
  /** Requests per key within the current `max_age` window: [count, window start]. */
  readonly #occurrences = new Map<string, [number, number]>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stop = new AbortController();
  #prepared?: Promise<void>;
  #serial = 0;

  constructor(options: PackObjectsCacheOptions) {
    this.#options = options;
  }

  /** Whether output is cached at all. */
  get enabled(): boolean {
    return this.#options.enabled;
  }

  /** Counts bytes sent to a client (`gitaly_pack_objects_served_bytes_total`). */
  countServed(bytes: number): void {
    this.#options.observer?.onServed?.(bytes);
  }

  /** Counts bytes a producer wrote (`gitaly_pack_objects_generated_bytes_total`). */
  countGenerated(bytes: number): void {
    this.#options.observer?.onGenerated?.(bytes);
  }

  /** Creates the directory, emptied of what an earlier server left. */
  #prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      await Deno.remove(this.#options.dir, { recursive: true }).catch(() => {});
      await Deno.mkdir(this.#options.dir, { recursive: true, mode: 0o700 });
    })();
    return this.#prepared;
  }

  /**
   * Streams the content for `key` into `sink`: an existing entry's, or a
   * new one `produce` writes. `signal` ends only this request's reading
   * (and, without caching, its producer). With `follower`, an entry is
   * not read here but followed: the follower reads its file.
   */
  async fetch(
    key: string,
    sink: ByteSink,
    produce: Producer,
    signal: AbortSignal,
    follower?: FileFollower,
  ): Promise<FetchResult> {
    const observer = this.#options.observer;
    if (!this.enabled || !this.#occurred(key)) {
      observer?.onLookup?.(false);
      let served = 0;
      await produce(async (chunk) => {
        served += chunk.byteLength;
        await sink(chunk);
      }, signal);
      return { served, created: true };
    }
    await this.#prepare();
    const existing = this.#entries.get(key) ?? this.#creating.get(key);
    const created = existing === undefined;
    observer?.onLookup?.(!created);
    let entry: Entry;
    if (existing) {
      entry = await existing;
    } else {
      // Requests arriving while the file is being created wait for that entry.
      const creating = this.#create(key, produce);
      this.#creating.set(key, creating);
      try {
        entry = await creating;
      } finally {
        this.#creating.delete(key);
      }
    }
    const served = follower
      ? await this.#follow(entry, follower, signal)
      : await this.#read(entry, sink, signal);
    return { served, created };
  }

  /**
   * Counts a request for `key`; true when it had been requested
   * `min_occurrences` times before within `max_age` (so with the default
   * 1, the second request of a key creates its entry).
   */
  #occurred(key: string): boolean {
    const now = Date.now();
    const seen = this.#occurrences.get(key);
    const before = seen && now - seen[1] < this.#options.maxAgeMs ? seen[0] : 0;
    this.#occurrences.set(key, [before + 1, before ? seen![1] : now]);
    if (this.#occurrences.size > 10_000) {
      for (const [k, [, start]] of this.#occurrences) {
        if (now - start >= this.#options.maxAgeMs) this.#occurrences.delete(k);
      }
    }
    return before >= this.#options.minOccurrences;
  }

  /** Starts a producer writing a new entry for `key`. */
  async #create(key: string, produce: Producer): Promise<Entry> {
    const path = join(this.#options.dir, `${key.slice(0, 16)}-${Date.now()}-${++this.#serial}`);
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    const entry = new Entry(path, file);
    this.#entries.set(key, entry);
    this.#options.observer?.onEntries?.(this.#entries.size);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#expire(key, entry);
    }, this.#options.maxAgeMs);
    Deno.unrefTimer(timer);
    this.#timers.add(timer);
    produce((chunk) => entry.append(chunk), this.#stop.signal).then(
      () => entry.finish(),
      (error) => {
        entry.finish(error instanceof Error ? error : new Error(String(error)));
        // A failed entry serves nobody after the requests already on it.
        this.#expire(key, entry);
      },
    ).finally(() => this.#removeIfIdle(entry));
    return entry;
  }

  /** Copies `entry` to `sink` as it grows; resolves with the bytes copied. */
  async #read(entry: Entry, sink: ByteSink, signal: AbortSignal): Promise<number> {
    entry.readers++;
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(entry.path, { read: true });
      const buffer = new Uint8Array(READ_SIZE);
      let offset = 0;
      return await this.#watch(entry, signal, async (size) => {
        while (offset < size) {
          signal.throwIfAborted();
          const n = await file!.read(buffer.subarray(0, Math.min(READ_SIZE, size - offset)));
          if (n === null) throw new Error("pack-objects cache: entry truncated");
          offset += n;
          await sink(buffer.subarray(0, n));
        }
      });
    } finally {
      file?.close();
      entry.readers--;
      this.#removeIfIdle(entry);
    }
  }

  /** Tells `follower` how `entry` grows; resolves with its final size. */
  async #follow(entry: Entry, follower: FileFollower, signal: AbortSignal): Promise<number> {
    entry.readers++;
    try {
      return await this.#watch(entry, signal, (size) => follower.grown(entry.path, size));
    } finally {
      const release = () => {
        entry.readers--;
        this.#removeIfIdle(entry);
      };
      follower.released.then(release, release);
    }
  }

  /**
   * Calls `grown` with `entry`'s size whenever it has more than before
   * (first with what it has) until its producer is done; resolves with the
   * final size, or rejects with the producer's error or `signal`'s abort.
   */
  async #watch(
    entry: Entry,
    signal: AbortSignal,
    grown: (size: number) => Promise<void>,
  ): Promise<number> {
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    let seen = -1;
    for (;;) {
      signal.throwIfAborted();
      const size = entry.size;
      if (size > seen) {
        seen = size;
        await grown(size);
        continue;
      }
      if (entry.done) {
        if (entry.error) throw entry.error;
        return seen;
      }
      await Promise.race([entry.changed(), aborted]);
    }
  }

  /** No new request gets `entry`; its file goes once idle. */
  #expire(key: string, entry: Entry): void {
    entry.expired = true;
    if (this.#entries.get(key) === entry) {
      this.#entries.delete(key);
      this.#options.observer?.onEntries?.(this.#entries.size);
    }
    this.#removeIfIdle(entry);
  }

  #removeIfIdle(entry: Entry): void {
    if (entry.expired && entry.done && entry.readers === 0) {
      Deno.remove(entry.path).catch(() => {});
    }
  }

  /** Stops running producers and removes every entry. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const [key, entry] of [...this.#entries]) this.#expire(key, entry);
    if (this.#prepared) {
      await this.#prepared.catch(() => {});
      await Deno.remove(this.#options.dir, { recursive: true }).catch(() => {});
    }
  }
}
