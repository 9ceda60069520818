/**
 * `client call SERVICE/METHOD [JSON]`: any RPC by name, requests and
 * responses as protobuf JSON. Unary and server-streaming calls take their
 * request from the argument (default `{}`); client-streaming and bidi
 * calls send the argument (if any) first, then one request per line of
 * standard input until it ends. Every response is printed as one JSON line
 * as it arrives.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { methodByPath, type MethodInfo } from "../proto/mod.ts";
import { toProtoJson } from "../client/json.ts";
import { parseProtoJson } from "../client/protojson.ts";
import { methodCodec } from "../client/services.ts";
import {
  bidiStreamCall,
  type CallOptions,
  clientStreamCall,
  serverStreamCall,
  unaryCall,
} from "../client/stream_calls.ts";
import { InputError, UsageError } from "./usage.ts";

/** The standard streams of a `client` run (text out, request lines in). */
export interface CallIO {
  /** Request lines for streaming calls. */
  stdinLines: () => AsyncIterable<string>;
  stdout: (text: string) => Promise<void>;
  stderr: (text: string) => Promise<void>;
}

/** A validated `call` command line. */
export interface PreparedCall {
  method: MethodInfo;
  /** The request given on the command line, as a message. */
  first?: unknown;
}

/**
 * Resolves `spec` (`RepositoryService/RepositoryExists`,
 * `gitaly.RepositoryService/RepositoryExists`,
 * `/grpc.health.v1.Health/Check`) and parses `json`. Throws
 * {@link InputError} for an unknown method or a bad request.
 */
export function prepareCall(spec: string, json: string | undefined): PreparedCall {
  const method = resolveMethod(spec);
  const streamsRequests = method.requestStream;
  const text = json ?? (streamsRequests ? undefined : "{}");
  return { method, first: text === undefined ? undefined : parseRequest(method, text) };
}

/** Makes the call and prints the responses; resolves to 0 (a failed call rejects). */
export async function runCall(
  conn: grpc.Client,
  prepared: PreparedCall,
  options: CallOptions,
  io: CallIO,
): Promise<number> {
  const { method, first } = prepared;
  const codec = methodCodec(method);
  const print = (message: unknown) =>
    io.stdout(JSON.stringify(toProtoJson(method.responseType, message)) + "\n");
  if (!method.requestStream) {
    if (!method.responseStream) {
      await print(await unaryCall(conn, codec, first as never, options));
      return 0;
    }
    for await (const response of serverStreamCall(conn, codec, first as never, options)) {
      await print(response);
    }
    return 0;
  }
  const requests = requestsFrom(method, first, io.stdinLines());
  if (!method.responseStream) {
    const call = clientStreamCall(conn, codec, options);
    const sending = watch(call.writeAll(requests), () => call.cancel());
    const response = await call.response.catch(sending.rethrowInputErrorOr);
    sending.rethrowInputErrorOr(undefined);
    await print(response);
    return 0;
  }
  const call = bidiStreamCall(conn, codec, options);
  const sending = watch(call.writeAll(requests), () => call.cancel());
  try {
    for await (const response of call) await print(response);
  } catch (error) {
    sending.rethrowInputErrorOr(error);
  }
  sending.rethrowInputErrorOr(undefined);
  return 0;
}

/**
 * Follows the request side of a streaming call: a bad request line
 * cancels the call, and is the error to report rather than the
 * cancellation it caused. Standard input may still be open when the call
 * ends; nobody waits for it.
 */
function watch(sending: Promise<void>, cancel: () => void) {
  let inputError: unknown;
  sending.catch((error) => {
    if (!(error instanceof UsageError)) return; // the call failed; its own error says why
    inputError = error;
    cancel();
  });
  return {
    /** Throws the input error if there was one, else `error` (if any). */
    rethrowInputErrorOr(error: unknown): never | undefined {
      if (inputError !== undefined) throw inputError;
      if (error !== undefined) throw error;
      return undefined;
    },
  };
}

/** The process's own streams. */
export function processCallIO(): CallIO {
  const encoder = new TextEncoder();
  const write = (file: { write(p: Uint8Array): Promise<number> }) => async (text: string) => {
    const bytes = encoder.encode(text);
    for (let offset = 0; offset < bytes.byteLength;) {
      offset += await file.write(bytes.subarray(offset));
    }
  };
  return {
    stdinLines: () => lines(Deno.stdin.readable),
    stdout: write(Deno.stdout),
    stderr: write(Deno.stderr),
  };
}

/** Non-empty lines of `stream`. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const line of parts) if (line.trim() !== "") yield line;
  }
  if (pending.trim() !== "") yield pending;
}

function resolveMethod(spec: string): MethodInfo {
  const match = /^\/?([A-Za-z0-9_.]+)\/([A-Za-z0-9_]+)$/.exec(spec);
  if (!match) throw new UsageError(`expected SERVICE/METHOD, got ${JSON.stringify(spec)}`);
  const service = match[1].includes(".") ? match[1] : `gitaly.${match[1]}`;
  const method = methodByPath(`/${service}/${match[2]}`);
  if (!method) throw new InputError(`unknown method /${service}/${match[2]}`);
  return method;
}

function parseRequest(method: MethodInfo, text: string): unknown {
  try {
    return parseProtoJson(method.requestType, text);
  } catch (error) {
    throw new InputError(`bad ${method.requestType.name}: ${(error as Error).message}`);
  }
}

async function* requestsFrom(
  method: MethodInfo,
  first: unknown,
  stdinLines: AsyncIterable<string>,
): AsyncGenerator<never> {
  if (first !== undefined) yield first as never;
  for await (const line of stdinLines) yield parseRequest(method, line) as never;
}
