/**
 * A minimal grpc-js client for tests: unary, server-streaming and
 * bidirectional calls to any method by path, with an optional token.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { grpcServiceDefinition } from "../../src/proto/mod.ts";
import { signV2Token } from "../../src/server/auth.ts";
import { healthDefinition } from "../../src/service/health/mod.ts";

/** Call options. */
export interface CallOptions {
  token?: string;
  /** Raw `authorization` header (overrides token). */
  authorization?: string;
  metadata?: Record<string, string>;
  credentials?: grpc.ChannelCredentials;
  deadlineMs?: number;
}

/** A connection to one server address. */
export class TestClient {
  readonly client: grpc.Client;

  constructor(
    address: string,
    credentials = grpc.credentials.createInsecure(),
    options: grpc.ClientOptions = {},
  ) {
    this.client = new grpc.Client(address, credentials, options);
  }

  /** Makes a unary call to `/pkg.Service/Method`. */
  unary<Res = Record<string, unknown>>(
    path: string,
    request: unknown,
    options: CallOptions = {},
  ): Promise<Res> {
    const method = methodDefinition(path);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadataFor(options),
        callOptions(options),
        (err, value) => err ? reject(err) : resolve(value as Res),
      );
    });
  }

  /** Makes a server-streaming call and collects every response. */
  async serverStream<Res = Record<string, unknown>>(
    path: string,
    request: unknown,
    options: CallOptions = {},
  ) {
    const method = methodDefinition(path);
    const call = this.client.makeServerStreamRequest(
      path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadataFor(options),
      callOptions(options),
    );
    const out: Res[] = [];
    for await (const message of call) out.push(message as Res);
    return out;
  }

  /**
   * Makes a bidirectional-streaming call: writes `requests`, half-closes,
   * and collects every response and the error the call ended with, if any.
   */
  async bidiStream<Res = Record<string, unknown>>(
    path: string,
    requests: unknown[],
    options: CallOptions = {},
  ): Promise<{ responses: Res[]; error?: grpc.ServiceError }> {
    const call = this.#openBidi(path, options);
    for (const request of requests) call.write(request);
    call.end();
    const responses: Res[] = [];
    try {
      for await (const message of call) responses.push(message as Res);
    } catch (error) {
      return { responses, error: error as grpc.ServiceError };
    }
    return { responses };
  }

  /**
   * Opens a bidirectional-streaming call and writes `first` without
   * half-closing, so the call stays in flight until `cancel()`; `settled`
   * resolves with the error it ended with, if any.
   */
  hold(
    path: string,
    first: unknown,
    options: CallOptions = {},
  ): { cancel(): void; settled: Promise<grpc.ServiceError | undefined> } {
    const call = this.#openBidi(path, options);
    call.write(first);
    const settled = (async () => {
      try {
        for await (const _ of call) { /* responses are not needed */ }
      } catch (error) {
        return error as grpc.ServiceError;
      }
      return undefined;
    })();
    return { cancel: () => call.cancel(), settled };
  }

  #openBidi(path: string, options: CallOptions) {
    const method = methodDefinition(path);
    return this.client.makeBidiStreamRequest(
      path,
      method.requestSerialize,
      method.responseDeserialize,
      metadataFor(options),
      callOptions(options),
    );
  }

  close(): void {
    this.client.close();
  }
}

// deno-lint-ignore no-explicit-any
function methodDefinition(path: string): grpc.MethodDefinition<any, any> {
  const [, service, name] = path.split("/");
  const definition = service === "grpc.health.v1.Health"
    ? healthDefinition
    : grpcServiceDefinition(service);
  return definition[name];
}

function metadataFor(options: CallOptions): grpc.Metadata {
  const md = new grpc.Metadata();
  const auth = options.authorization ??
    (options.token ? `Bearer ${signV2Token(options.token)}` : undefined);
  if (auth) md.set("authorization", auth);
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  return md;
}

function callOptions(options: CallOptions): grpc.CallOptions {
  return options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
}

/** The gRPC code of a rejected call, for asserts. */
export async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return grpc.status.OK;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}
