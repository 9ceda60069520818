/**
 * The server's listeners (Unix socket, TCP, TLS) and the connection sorter
 * that Gitaly's listener multiplexer also has: the first 11 bytes say whether
 * a connection is a `backchannel` (multiplexed) session or plain HTTP/2 gRPC
 * (whose preface never starts with that word).
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { listenerFd, setCloseOnExec } from "./close_on_exec.ts";
import { splitHostPort } from "./metrics.ts";

/** The magic a multiplexing client writes first. */
export const BACKCHANNEL_MAGIC = new TextEncoder().encode("backchannel");

/** Where sorted connections go. */
export interface ConnectionSink {
  /** A plain gRPC connection, with its first bytes put back. */
  grpc(socket: Duplex): void;
  /** A connection that announced `backchannel` (magic already consumed). */
  backchannel?(socket: Duplex): void;
}

/** One bound listener. */
export interface BoundListener {
  /** Human-readable address, e.g. `unix:/path` or `tcp://127.0.0.1:9999`. */
  address: string;
  close(): Promise<void>;
}

/** Listens on a Unix socket at `path`, replacing a stale socket file. */
export async function listenUnix(path: string, sink: ConnectionSink): Promise<BoundListener> {
  await removeStaleSocket(path);
  const server = net.createServer((socket) => sortConnection(asUnixPeer(socket), sink));
  await listen(server, { path });
  // Deno opens this one socket without close-on-exec: every git would inherit it.
  const fd = listenerFd(server);
  if (fd === undefined || !setCloseOnExec(fd)) {
    await closeServer(server);
    throw new ListenError(
      `unix:${path}`,
      "cannot mark the socket close-on-exec (the server needs --allow-ffi and glibc)",
    );
  }
  return { address: `unix:${path}`, close: () => closeServer(server) };
}

/**
 * What a Unix-socket client's address reads as: Go (and so Gitaly's
 * logging) prints an unnamed Unix peer as `@`, where Node has none at all
 * and grpc-js would say `unknown`.
 */
export const UNIX_PEER_ADDRESS = "@";

function asUnixPeer(socket: net.Socket): net.Socket {
  if (!socket.remoteAddress) {
    Object.defineProperty(socket, "remoteAddress", { value: UNIX_PEER_ADDRESS });
  }
  return socket;
}

/** Listens on TCP `host:port` (port 0 picks a free one; the address reports it). */
export async function listenTcp(addr: string, sink: ConnectionSink): Promise<BoundListener> {
  const server = net.createServer((socket) => sortConnection(socket, sink));
  const { hostname, port } = splitHostPort(addr);
  await listen(server, { host: hostname, port });
  return { address: `tcp://${formatAddress(server)}`, close: () => closeServer(server) };
}

/** Listens with TLS (h2 via ALPN, as gRPC clients require) on `host:port`. */
export async function listenTls(
  addr: string,
  certificatePath: string,
  keyPath: string,
  sink: ConnectionSink,
): Promise<BoundListener> {
  const server = tls.createServer({
    cert: await Deno.readTextFile(certificatePath),
    key: await Deno.readTextFile(keyPath),
    ALPNProtocols: ["h2"],
    minVersion: "TLSv1.2",
  }, (socket) => sortConnection(socket, sink));
  const { hostname, port } = splitHostPort(addr);
  await listen(server, { host: hostname, port });
  return { address: `tls://${formatAddress(server)}`, close: () => closeServer(server) };
}

/**
 * Reads the first 11 bytes of a connection and hands it to the right sink.
 * Bytes that are not the backchannel magic are pushed back unchanged.
 */
export function sortConnection(socket: Duplex, sink: ConnectionSink): void {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const onData = (chunk: Uint8Array) => {
    chunks.push(chunk);
    length += chunk.length;
    if (length < BACKCHANNEL_MAGIC.length) return;
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.pause();
    const head = concat(chunks, length);
    const isBackchannel = startsWith(head, BACKCHANNEL_MAGIC);
    if (isBackchannel && sink.backchannel) {
      socket.unshift(Buffer.from(head.subarray(BACKCHANNEL_MAGIC.length)));
      sink.backchannel(socket);
    } else if (isBackchannel) {
      socket.destroy();
    } else {
      socket.unshift(Buffer.from(head));
      sink.grpc(socket);
    }
  };
  const onEnd = () => socket.destroy();
  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("error", () => socket.destroy());
}

/** Removes a socket file nobody listens on; refuses to steal a live one. */
async function removeStaleSocket(path: string): Promise<void> {
  const live = await Deno.connect({ transport: "unix", path }).then((conn) => {
    conn.close();
    return true;
  }, () => false);
  if (live) throw new ListenError(`unix:${path}`, "address already in use");
  await Deno.remove(path).catch(() => {});
}

/** A listener that could not be opened. */
export class ListenError extends Error {
  constructor(readonly address: string, reason: string) {
    super(`cannot listen on ${address}: ${reason}`);
    this.name = "ListenError";
  }
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => {
      const address = options.path ? `unix:${options.path}` : `${options.host}:${options.port}`;
      reject(
        new ListenError(
          address,
          err.code === "EADDRINUSE" ? "address already in use" : err.message,
        ),
      );
    });
    server.listen(options, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
}

/**
 * Stops accepting. Node calls `close`'s callback only once every open
 * connection has ended, which is the gRPC server's job, so we do not wait.
 */
function closeServer(server: net.Server): Promise<void> {
  server.close();
  return Promise.resolve();
}

function formatAddress(server: net.Server): string {
  const info = server.address() as net.AddressInfo;
  return info.family === "IPv6" ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.every((byte, i) => data[i] === byte);
}
