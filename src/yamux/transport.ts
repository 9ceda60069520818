/**
 * The byte connection a Yamux session runs over, and adapters that make one
 * from a `Deno.Conn`, from a Node socket (or any Node `Duplex`), and an
 * in-memory pipe for tests.
 *
 * @module
 */

import type { Duplex } from "node:stream";

/** Where one end of a connection is. */
export interface TransportAddress {
  /** IP address or hostname, or a Unix socket path. */
  address: string;
  /** TCP port; absent for Unix sockets. */
  port?: number;
  /** `IPv4`, `IPv6` or `unix`. */
  family?: string;
}

/** A reliable ordered byte connection. The session owns both streams once started. */
export interface YamuxTransport {
  /** Bytes from the peer. A byte stream (BYOB capable) is read into one reused buffer. */
  readonly readable: ReadableStream<Uint8Array>;
  /**
   * Bytes to the peer. A write must resolve only once its chunk has been
   * written or copied: the session reuses the buffer afterwards.
   */
  readonly writable: WritableStream<Uint8Array>;
  /**
   * Optional shortcut for writes to `writable` (same contract, one hop
   * less per chunk); closing and aborting still go through `writable`.
   */
  write?(chunk: Uint8Array): Promise<void>;
  /** Closes the connection in both directions; must tolerate being called twice. */
  close(): void | Promise<void>;
  /** Our end, if known. */
  readonly localAddress?: TransportAddress;
  /** The peer's end, if known. */
  readonly remoteAddress?: TransportAddress;
}

/** Wraps a `Deno.Conn` (TCP, Unix or TLS). */
export function fromDenoConn(conn: Deno.Conn): YamuxTransport {
  return {
    readable: conn.readable,
    writable: conn.writable,
    close: () => {
      try {
        conn.close();
      } catch {
        // Already closed, e.g. by closing its writable.
      }
    },
    localAddress: denoAddress(conn.localAddr),
    remoteAddress: denoAddress(conn.remoteAddr),
  };
}

/** Node socket queue size: pause reading above this many chunks. */
const NODE_READ_CHUNKS = 16;

/**
 * Wraps a Node `net.Socket` (or any byte `Duplex`). The socket's flow
 * control is honoured both ways: it is paused while our reader lags, and a
 * write resolves once the socket has written its chunk.
 */
export function fromNodeSocket(socket: Duplex): YamuxTransport {
  const net = socket as Duplex & Partial<NodeSocketInfo>;
  return {
    readable: nodeReadable(socket),
    writable: nodeWritable(socket),
    write: (chunk) => writeToSocket(socket, chunk),
    close: () => {
      socket.destroy();
    },
    localAddress: net.localAddress
      ? { address: net.localAddress, port: net.localPort, family: net.localFamily }
      : undefined,
    remoteAddress: net.remoteAddress
      ? { address: net.remoteAddress, port: net.remotePort, family: net.remoteFamily }
      : undefined,
  };
}

/**
 * Two connected in-memory transports, each direction buffering up to
 * `bufferBytes` like a socket buffer. Closing either end breaks both
 * directions, the way a dropped connection does.
 */
export function memoryPipe(bufferBytes = 256 * 1024): [YamuxTransport, YamuxTransport] {
  const aToB = memoryChannel(bufferBytes);
  const bToA = memoryChannel(bufferBytes);
  const close = () => {
    const error = new Error("memory pipe closed");
    aToB.kill(error);
    bToA.kill(error);
  };
  return [
    { readable: bToA.readable, writable: aToB.writable, close },
    { readable: aToB.readable, writable: bToA.writable, close },
  ];
}

interface NodeSocketInfo {
  localAddress: string;
  localPort: number;
  localFamily: string;
  remoteAddress: string;
  remotePort: number;
  remoteFamily: string;
}

function denoAddress(addr: Deno.Addr): TransportAddress {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return { address: addr.path, family: "unix" };
  }
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return {
      address: addr.hostname,
      port: addr.port,
      family: addr.hostname.includes(":") ? "IPv6" : "IPv4",
    };
  }
  return { address: String(addr.transport) };
}

function nodeReadable(socket: Duplex): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const finish = (error?: unknown) => {
        if (finished) return;
        finished = true;
        if (error) controller.error(error);
        else controller.close();
      };
      socket.on("data", (chunk: Uint8Array) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) socket.pause();
      });
      socket.once("end", () => finish());
      socket.once("error", (error) => finish(error));
      socket.once("close", () => finish(new Error("socket closed")));
    },
    pull() {
      socket.resume();
    },
    cancel() {
      finished = true;
      socket.destroy();
    },
  }, { highWaterMark: NODE_READ_CHUNKS });
}

function nodeWritable(socket: Duplex): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => writeToSocket(socket, chunk),
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed || socket.writableEnded) resolve();
        else socket.end(() => resolve());
      });
    },
    abort() {
      socket.destroy();
    },
  });
}

/** Writes `chunk`; resolves once the socket has written it. */
function writeToSocket(socket: Duplex, chunk: Uint8Array): Promise<void> {
  if (socket.destroyed || socket.writableEnded) {
    return Promise.reject(new Error("socket is closed"));
  }
  return new Promise<void>((resolve, reject) => {
    socket.write(chunk, (error) => error ? reject(error) : resolve());
  });
}

interface MemoryChannel {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  kill(error: Error): void;
}

/** One direction of a {@link memoryPipe}: writes wait while the reader's queue is full. */
function memoryChannel(bufferBytes: number): MemoryChannel {
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;
  let spaceWaiter: (() => void) | null = null;
  let dead: Error | null = null;
  let ended = false;
  const wakeWriter = () => {
    const waiter = spaceWaiter;
    spaceWaiter = null;
    waiter?.();
  };
  const readable = new ReadableStream<Uint8Array>({
    start: (controller) => {
      readController = controller;
    },
    pull: wakeWriter,
    cancel: (reason) => {
      dead ??= reason instanceof Error ? reason : new Error("reader cancelled");
      tryCall(() => writeController.error(dead));
      wakeWriter();
    },
  }, { highWaterMark: bufferBytes, size: (chunk) => chunk.byteLength });
  const writable = new WritableStream<Uint8Array>({
    start: (controller) => {
      writeController = controller;
    },
    async write(chunk) {
      while (!dead && (readController.desiredSize ?? 0) <= 0) {
        await new Promise<void>((resolve) => spaceWaiter = resolve);
      }
      if (dead) throw dead;
      readController.enqueue(chunk.slice()); // the writer may reuse its buffer
    },
    close() {
      ended = true;
      tryCall(() => readController.close());
    },
    abort(reason) {
      ended = true;
      tryCall(() => readController.error(reason));
    },
  });
  return {
    readable,
    writable,
    kill(error) {
      if (dead) return;
      dead = error;
      if (!ended) tryCall(() => readController.error(error));
      tryCall(() => writeController.error(error));
      wakeWriter();
    },
  };
}

function tryCall(action: () => void): void {
  try {
    action();
  } catch {
    // The stream already left the state this action applies to.
  }
}
