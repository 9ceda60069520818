/**
 * Typed calls by method path for programs that already load the full proto
 * root (the server calling other servers, tools): unary and
 * server-streaming, cancelled by an `AbortSignal`.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../proto/mod.ts";

/** Per-call options. */
export interface CallOptions {
  /** Extra headers for this call. */
  metadata?: Record<string, string>;
  /** Aborting cancels the call. */
  signal?: AbortSignal;
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
}

// deno-lint-ignore no-explicit-any
type AnyMethod = grpc.MethodDefinition<any, any>;

/** Makes a unary call to `/pkg.Service/Method`; rejects with the call's `ServiceError`. */
export function callUnary<Res = Record<string, unknown>>(
  client: grpc.Client,
  path: string,
  request: unknown,
  options: CallOptions = {},
): Promise<Res> {
  const method = methodDefinition(path);
  options.signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(
      path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadataOf(options),
      grpcOptions(options),
      (err, value) => err ? reject(err) : resolve(value as Res),
    );
    cancelOnAbort(call, options.signal);
  });
}

/**
 * Makes a server-streaming call and yields the responses; reading slowly
 * slows the sender down. Stopping early cancels the call.
 */
export async function* callServerStream<Res = Record<string, unknown>>(
  client: grpc.Client,
  path: string,
  request: unknown,
  options: CallOptions = {},
): AsyncGenerator<Res, void, undefined> {
  const method = methodDefinition(path);
  options.signal?.throwIfAborted();
  const call = client.makeServerStreamRequest(
    path,
    method.requestSerialize,
    method.responseDeserialize,
    request,
    metadataOf(options),
    grpcOptions(options),
  );
  const detach = cancelOnAbort(call, options.signal);
  let finished = false;
  try {
    for await (const message of call) yield message as Res;
    finished = true;
  } finally {
    detach();
    if (!finished) call.cancel();
  }
}

function methodDefinition(path: string): AnyMethod {
  const [, service, name] = path.split("/");
  const method = grpcServiceDefinition(service)[name];
  if (!method) throw new Error(`unknown method ${path}`);
  return method as AnyMethod;
}

function metadataOf(options: CallOptions): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return metadata;
}

function grpcOptions(options: CallOptions): grpc.CallOptions {
  return options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
}

function cancelOnAbort(call: { cancel(): void }, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const onAbort = () => call.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}
