/**
 * The handler model every service uses, independent of grpc-js: a handler
 * gets decoded requests and a {@link CallContext}, and returns or sends
 * responses. `adapter.ts` binds these to grpc-js.
 *
 * @module
 */
import type { Metadata } from "@grpc/grpc-js";
import type { BackchannelPeer } from "../backchannel/peer.ts";
import type { EncodedResponses } from "../proto/encoded.ts";
import type { Init, MethodShape as ProtoMethod, ServiceMethods } from "../proto/types.ts";

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, e.g. `/gitaly.RepositoryService/RepositoryExists`. */
  readonly path: string;
  /** Request metadata (headers). */
  readonly metadata: Metadata;
  /** Aborted when the client cancels, the deadline passes or the server stops. */
  readonly signal: AbortSignal;
  /** The peer address as grpc-js reports it. */
  readonly peer: string;
  /** Extra fields for this call's log line (e.g. the repository). */
  readonly logFields: Record<string, string | number | boolean>;
  /**
   * The multiplexed (`backchannel`) connection the call arrived on, if it
   * did: the handle to open streams back to this very client
   * (sidechannels). Undefined for plain connections.
   */
  readonly backchannel?: BackchannelPeer;
}

/**
 * A function that sends one response message (or a batch of them encoded
 * by hand, see `src/proto/encoded.ts`) and resolves once it may send more.
 */
export type Send<Res> = (response: Res | EncodedResponses) => Promise<void>;

/** One request, one response. */
export interface UnaryHandler<Req, Res> {
  kind: "unary";
  fn: (request: Req, ctx: CallContext) => Promise<Res>;
}

/** One request, a stream of responses. */
export interface ServerStreamHandler<Req, Res> {
  kind: "server_stream";
  fn: (request: Req, ctx: CallContext, send: Send<Res>) => Promise<void>;
}

/** A stream of requests, one response. */
export interface ClientStreamHandler<Req, Res> {
  kind: "client_stream";
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>;
}

/** Streams both ways. */
export interface BidiStreamHandler<Req, Res> {
  kind: "bidi_stream";
  fn: (requests: AsyncIterable<Req>, ctx: CallContext, send: Send<Res>) => Promise<void>;
}

/** Any handler. */
// deno-lint-ignore no-explicit-any
export type Handler<Req = any, Res = any> =
  | UnaryHandler<Req, Res>
  | ServerStreamHandler<Req, Res>
  | ClientStreamHandler<Req, Res>
  | BidiStreamHandler<Req, Res>;

/** The handlers one service implements, by method name; absent methods are `Unimplemented`. */
export interface ServiceImplementation {
  /** Fully qualified service name, e.g. `gitaly.RepositoryService`. */
  service: string;
  handlers: Record<string, Handler>;
}

/** A fully qualified service name of the generated interface, e.g. `gitaly.RefService`. */
export type ServiceName = keyof ServiceMethods;

/**
 * The handler type one method of the generated interface needs: its
 * streaming kind, its request type and (buildable) response type.
 */
export type HandlerFor<M extends ProtoMethod> = M["requestStream"] extends true
  ? M["responseStream"] extends true ? BidiStreamHandler<M["request"], Init<M["response"]>>
  : ClientStreamHandler<M["request"], Init<M["response"]>>
  : M["responseStream"] extends true ? ServerStreamHandler<M["request"], Init<M["response"]>>
  : UnaryHandler<M["request"], Init<M["response"]>>;

/**
 * The handler of `method` of `service`, e.g. `Rpc<"gitaly.RefService", "FindBranch">`.
 * Annotating a handler factory's return type with it types the request and
 * response from the proto, so a wrong message type or streaming kind fails
 * `deno check`.
 */
export type Rpc<S extends ServiceName, M extends keyof ServiceMethods[S]> =
  ServiceMethods[S][M] extends ProtoMethod ? HandlerFor<ServiceMethods[S][M]> : never;

/** A service's handler table: only the proto's method names, each with its exact handler type. */
export type ServiceHandlers<S extends ServiceName> = {
  [M in keyof ServiceMethods[S]]?: Rpc<S, M>;
};

/**
 * Declares a service implementation whose table is checked against the
 * generated interface: a misspelt method name, a wrong request or response
 * type or a wrong streaming kind is a type error.
 */
export function defineService<S extends ServiceName>(
  service: S,
  handlers: ServiceHandlers<S>,
): ServiceImplementation {
  return { service, handlers: handlers as Record<string, Handler> };
}

/** Declares a unary handler. */
export function unary<Req, Res>(fn: UnaryHandler<Req, Res>["fn"]): UnaryHandler<Req, Res> {
  return { kind: "unary", fn };
}

/** Declares a server-streaming handler. */
export function serverStream<Req, Res>(
  fn: ServerStreamHandler<Req, Res>["fn"],
): ServerStreamHandler<Req, Res> {
  return { kind: "server_stream", fn };
}

/** Declares a client-streaming handler. */
export function clientStream<Req, Res>(
  fn: ClientStreamHandler<Req, Res>["fn"],
): ClientStreamHandler<Req, Res> {
  return { kind: "client_stream", fn };
}

/** Declares a bidirectional-streaming handler. */
export function bidiStream<Req, Res>(
  fn: BidiStreamHandler<Req, Res>["fn"],
): BidiStreamHandler<Req, Res> {
  return { kind: "bidi_stream", fn };
}

/** The first value of a metadata key as a string, if any. */
export function metadataValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}
