/**
 * The four call shapes as small typed objects over grpc-js: unary →
 * `Promise`, server streaming → `AsyncIterable`, client streaming → a
 * writer with a `response` promise, bidi → a writer that is also an
 * `AsyncIterable`. Writes resolve when grpc-js can take more (backpressure),
 * and an `AbortSignal` or deadline cancels any of them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import type { Init } from "../proto/types.ts";

/** Per-call options. */
export interface CallOptions {
  /** Extra headers for this call (merged over the connection's). */
  metadata?: Record<string, string>;
  /** Aborting cancels the call (it then fails with `Cancelled`). */
  signal?: AbortSignal;
  /** Absolute deadline: a `Date` or epoch milliseconds. */
  deadline?: Date | number;
  /** Deadline relative to now, in milliseconds (ignored when `deadline` is set). */
  timeoutMs?: number;
  /** Wait for the connection to become ready instead of failing fast while it is down. */
  waitForReady?: boolean;
}

/** The wire side of one method: what grpc-js needs to call it. */
export interface MethodCodec<Req, Res> {
  path: string;
  serialize(request: Init<Req>): Uint8Array;
  deserialize(bytes: Uint8Array): Res;
}

/** Responses of a server-streaming (or bidi) call; stopping iteration early cancels the call. */
export interface ResponseStream<Res> extends AsyncIterable<Res> {
  /** Cancels the call; iteration then ends with a `Cancelled` error. */
  cancel(): void;
  /** Resolves with the response headers once they arrive. */
  readonly headers: Promise<grpc.Metadata>;
}

/** The request side of a client-streaming or bidi call. */
export interface RequestWriter<Req> {
  /** Sends one request; resolves when the next may be written. Rejects once the call is over. */
  write(request: Init<Req>): Promise<void>;
  /** Half-closes: no more requests. */
  end(): void;
  /** Writes every request from `requests`, then half-closes. */
  writeAll(requests: Iterable<Init<Req>> | AsyncIterable<Init<Req>>): Promise<void>;
  /** Cancels the call. */
  cancel(): void;
}

/** A client-streaming call: write requests, `end()`, await `response`. */
export interface ClientStreamCall<Req, Res> extends RequestWriter<Req> {
  /** The single response, or the call's error. */
  readonly response: Promise<Res>;
}

/** A bidi call: write requests and iterate responses, concurrently. */
export interface BidiStreamCall<Req, Res> extends RequestWriter<Req>, ResponseStream<Res> {}

/** Makes a unary call; rejects with the call's `ServiceError`. */
export function unaryCall<Req, Res>(
  client: grpc.Client,
  method: MethodCodec<Req, Res>,
  request: Init<Req>,
  options: CallOptions = {},
): Promise<Res> {
  options.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(
      method.path,
      serializer(method),
      deserializer(method),
      request,
      metadataOf(options),
      grpcCallOptions(options),
      (error, value) => error ? reject(error) : resolve(value as Res),
    );
    cancelOnAbort(call, options.signal, call);
  });
}

/** Starts a server-streaming call. */
export function serverStreamCall<Req, Res>(
  client: grpc.Client,
  method: MethodCodec<Req, Res>,
  request: Init<Req>,
  options: CallOptions = {},
): ResponseStream<Res> {
  options.signal?.throwIfAborted();
  const call = client.makeServerStreamRequest(
    method.path,
    serializer(method),
    deserializer(method),
    request,
    metadataOf(options),
    grpcCallOptions(options),
  );
  cancelOnAbort(call, options.signal, call);
  return responseStream<Res>(call);
}

/** Starts a client-streaming call. */
export function clientStreamCall<Req, Res>(
  client: grpc.Client,
  method: MethodCodec<Req, Res>,
  options: CallOptions = {},
): ClientStreamCall<Req, Res> {
  options.signal?.throwIfAborted();
  let settle!: (error: grpc.ServiceError | null, value?: Res) => void;
  const response = new Promise<Res>((resolve, reject) => {
    settle = (error, value) => error ? reject(error) : resolve(value as Res);
  });
  response.catch(() => {}); // the caller may only look at write errors
  const call = client.makeClientStreamRequest(
    method.path,
    serializer(method),
    deserializer(method),
    metadataOf(options),
    grpcCallOptions(options),
    (error, value) => settle(error, value as Res | undefined),
  );
  cancelOnAbort(call, options.signal, call);
  return { ...requestWriter<Req>(call, response), response };
}

/** Starts a bidi call. */
export function bidiStreamCall<Req, Res>(
  client: grpc.Client,
  method: MethodCodec<Req, Res>,
  options: CallOptions = {},
): BidiStreamCall<Req, Res> {
  options.signal?.throwIfAborted();
  const call = client.makeBidiStreamRequest(
    method.path,
    serializer(method),
    deserializer(method),
    metadataOf(options),
    grpcCallOptions(options),
  );
  cancelOnAbort(call, options.signal, call);
  const responses = responseStream<Res>(call);
  const ended = new Promise<void>((resolve) => call.once("status", () => resolve()));
  return { ...requestWriter<Req>(call, ended), ...responses };
}

/** What {@link requestWriter} needs of a grpc-js call. */
interface Writable<Req> {
  write(request: Init<Req>): boolean;
  end(): void;
  cancel(): void;
  once(event: "drain", listener: () => void): unknown;
  off(event: "drain", listener: () => void): unknown;
}

/** Writes with backpressure; `over` settles when the call has finished (writes then fail). */
function requestWriter<Req>(call: Writable<Req>, over: Promise<unknown>): RequestWriter<Req> {
  let finished = false;
  let halfClosed = false;
  const callOver = over.then(() => {}, () => {}).then(() => {
    finished = true;
  });
  const write = (request: Init<Req>): Promise<void> => {
    if (finished) return Promise.reject(new Error("write after the call finished"));
    if (halfClosed) return Promise.reject(new Error("write after end()"));
    if (call.write(request)) return Promise.resolve();
    // Wait for grpc-js to drain, or for the call to end (then nobody needs more).
    return new Promise<void>((resolve) => {
      const done = () => {
        call.off("drain", done);
        resolve();
      };
      call.once("drain", done);
      callOver.then(done);
    });
  };
  const end = () => {
    if (halfClosed) return;
    halfClosed = true;
    call.end();
  };
  return {
    write,
    end,
    cancel: () => call.cancel(),
    async writeAll(requests) {
      for await (const request of requests) {
        if (finished) return;
        await write(request);
      }
      end();
    },
  };
}

type Readable = grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>;

function responseStream<Res>(call: Readable): ResponseStream<Res> {
  const headers = new Promise<grpc.Metadata>((resolve) => call.once("metadata", resolve));
  return {
    cancel: () => call.cancel(),
    headers,
    async *[Symbol.asyncIterator]() {
      let complete = false;
      try {
        for await (const message of call) yield message as Res;
        complete = true;
      } finally {
        if (!complete) call.cancel();
      }
    },
  };
}

function serializer<Req>(method: MethodCodec<Req, unknown>): (value: Init<Req>) => Buffer {
  return (value) => asBuffer(method.serialize(value));
}

function deserializer<Res>(method: MethodCodec<unknown, Res>): (bytes: Buffer) => Res {
  return (bytes) => method.deserialize(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The call's headers (and wait-for-ready, which grpc-js keeps with them) as grpc-js metadata. */
export function metadataOf(options: CallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata(options.waitForReady ? { waitForReady: true } : undefined);
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

/** The deadline in grpc-js's terms. */
export function grpcCallOptions(options: CallOptions): grpc.CallOptions {
  const deadline = options.deadline ??
    (options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs);
  return deadline === undefined ? {} : { deadline };
}

/** Cancels `call` when `signal` aborts, until the call ends. */
function cancelOnAbort(
  call: { cancel(): void },
  signal: AbortSignal | undefined,
  events: { once(event: "status", listener: () => void): unknown },
): void {
  if (!signal) return;
  const onAbort = () => call.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  events.once("status", () => signal.removeEventListener("abort", onAbort));
}
