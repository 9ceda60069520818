/**
 * A streaming tar (ustar, with PAX records for long names) writer: entries
 * are read from disk one at a time as the consumer pulls, so an archive of
 * any size is never held in memory. Files that change while being archived
 * are cut or zero-padded to the size in their header, keeping the archive
 * well-formed.
 *
 * @module
 */

const BLOCK = 512;
const READ_SIZE = 64 * 1024;
const encoder = new TextEncoder();

/** One archive member. */
export interface TarEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  /** The file on disk to read (for files). */
  source?: string;
  type: "file" | "directory";
  /** Permission bits. */
  mode: number;
  /** Size in bytes (files). */
  size: number;
  /** Modification time, Unix seconds. */
  mtime: number;
}

/** Builds the entry for `path` on disk, archived as `name`; undefined when it is gone or special. */
export async function entryFor(path: string, name: string): Promise<TarEntry | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const mtime = Math.floor((info.mtime?.getTime() ?? 0) / 1000);
  const mode = (info.mode ?? 0o644) & 0o7777;
  if (info.isDirectory) return { name, type: "directory", mode, size: 0, mtime };
  if (info.isFile) return { name, source: path, type: "file", mode, size: info.size, mtime };
  return undefined;
}

/** The archive of `entries` as a byte stream (ends with the two zero blocks). */
export function tarStream(entries: AsyncIterable<TarEntry>): ReadableStream<Uint8Array> {
  return ReadableStream.from(tarChunks(entries));
}

async function* tarChunks(entries: AsyncIterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for await (const entry of entries) {
    yield* headerBlocks(entry);
    if (entry.type === "file") yield* fileBlocks(entry);
  }
  yield new Uint8Array(BLOCK * 2);
}

/** Reads exactly `entry.size` bytes (zero-filled if the file shrank) plus padding. */
async function* fileBlocks(entry: TarEntry): AsyncGenerator<Uint8Array> {
  let remaining = entry.size;
  const file = await Deno.open(entry.source!).catch(() => undefined);
  try {
    while (remaining > 0 && file) {
      const buffer = new Uint8Array(Math.min(READ_SIZE, remaining));
      const n = await file.read(buffer);
      if (n === null) break;
      remaining -= n;
      yield buffer.subarray(0, n);
    }
  } finally {
    file?.close();
  }
  if (remaining > 0) yield new Uint8Array(remaining);
  const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
  if (padding) yield new Uint8Array(padding);
}

/** The ustar header, preceded by a PAX header when the name does not fit. */
function* headerBlocks(entry: TarEntry): Generator<Uint8Array> {
  const name = entry.type === "directory" && !entry.name.endsWith("/")
    ? `${entry.name}/`
    : entry.name;
  const split = splitName(name);
  if (!split) {
    const record = paxRecord("path", name);
    yield header({
      name: "././@PaxHeader",
      prefix: "",
      typeflag: "x",
      size: record.length,
      mode: 0o644,
      mtime: entry.mtime,
    });
    yield record;
    const padding = (BLOCK - (record.length % BLOCK)) % BLOCK;
    if (padding) yield new Uint8Array(padding);
  }
  yield header({
    name: split?.name ?? name.slice(-100),
    prefix: split?.prefix ?? "",
    typeflag: entry.type === "directory" ? "5" : "0",
    size: entry.type === "file" ? entry.size : 0,
    mode: entry.mode,
    mtime: entry.mtime,
  });
}

interface HeaderFields {
  name: string;
  prefix: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
}

function header(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  put(block, 0, 100, encoder.encode(fields.name));
  put(block, 100, 8, octal(fields.mode, 8));
  put(block, 108, 8, octal(0, 8)); // uid
  put(block, 116, 8, octal(0, 8)); // gid
  put(block, 124, 12, octal(fields.size, 12));
  put(block, 136, 12, octal(fields.mtime, 12));
  block.fill(0x20, 148, 156); // checksum field counts as spaces
  block[156] = fields.typeflag.charCodeAt(0);
  put(block, 257, 6, encoder.encode("ustar\0"));
  put(block, 263, 2, encoder.encode("00"));
  put(block, 345, 155, encoder.encode(fields.prefix));
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  put(block, 148, 8, encoder.encode(checksum.toString(8).padStart(6, "0") + "\0 "));
  return block;
}

/** Splits a name into ustar's prefix (≤155 bytes) and name (≤100 bytes), if possible. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  const bytes = encoder.encode(name).length;
  if (bytes <= 100) return { prefix: "", name };
  if (bytes !== name.length) return undefined; // keep it simple: PAX for non-ASCII long names
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.slice(0, i), name: name.slice(i + 1) };
    }
  }
  return undefined;
}

/** A PAX record `"<len> key=value\n"`, where len counts the whole record. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = encoder.encode(body).length;
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return encoder.encode(`${length}${body}`);
}

function octal(value: number, width: number): Uint8Array {
  return encoder.encode(value.toString(8).padStart(width - 1, "0") + "\0");
}

function put(block: Uint8Array, offset: number, width: number, bytes: Uint8Array): void {
  block.set(bytes.subarray(0, width), offset);
}
