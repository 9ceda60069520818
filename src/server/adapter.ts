/**
 * Binds our handlers to grpc-js and wraps every call in the same
 * interceptor chain: auth → cancellation/deadline → limits (rate,
 * concurrency, pack-objects; keyed by the first request's repository) →
 * handler → error mapping, with one log line and metrics per call.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { type BackchannelPeer, peerOfSocket } from "../backchannel/peer.ts";
import { giveBackLent } from "../proto/bulk_bytes.ts";
import { EncodedResponses } from "../proto/encoded.ts";
import "./preframed.ts";
import { authError, checkAuthorization } from "./auth.ts";
import type { CallLimits } from "./call_limits.ts";
import { runInCallScope } from "./call_scope.ts";
import { Code, codeName, GrpcError, toGrpcError, unimplemented } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { GrpcType, ServerMetrics } from "./metrics.ts";
import {
  type CallContext,
  type Handler,
  metadataValue,
  type ServiceImplementation,
} from "./rpc.ts";

/** The shape of one method the adapter binds. */
export interface MethodShape {
  service: string;
  name: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** What the interceptor chain needs. */
export interface InterceptorDeps {
  auth: { token: string; transitioning: boolean };
  logger: Logger;
  metrics: ServerMetrics;
  calls: CallTracker;
  /** The configured request limits; none when absent. */
  limits?: CallLimits;
}

/** Tracks in-flight calls so shutdown can wait for them, then abort the rest. */
export class CallTracker {
  readonly #active = new Set<AbortController>();
  #idle: (() => void)[] = [];

  /** Registers a call; returns its controller and a function to call when it ends. */
  begin(): { controller: AbortController; end: () => void } {
    const controller = new AbortController();
    this.#active.add(controller);
    return {
      controller,
      end: () => {
        this.#active.delete(controller);
        if (this.#active.size === 0) this.#idle.splice(0).forEach((resolve) => resolve());
      },
    };
  }

  /** Number of calls in flight. */
  get size(): number {
    return this.#active.size;
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Aborts every call in flight (their git processes get killed through the signal). */
  abortAll(reason: string): void {
    for (const controller of this.#active) {
      controller.abort(new GrpcError(Code.UNAVAILABLE, reason));
    }
  }
}

/** Builds the grpc-js implementation object for one service. */
export function bindService(
  methods: MethodShape[],
  impl: ServiceImplementation | undefined,
  deps: InterceptorDeps,
): grpc.UntypedServiceImplementation {
  const bound: grpc.UntypedServiceImplementation = {};
  for (const method of methods) {
    const handler = impl?.handlers[method.name];
    if (handler && handler.kind !== kindOf(method)) {
      throw new Error(`${method.path}: handler is ${handler.kind}, proto says ${kindOf(method)}`);
    }
    bound[method.name] = bindMethod(method, handler, deps);
  }
  return bound;
}

/** The go-grpc-prometheus type label of a method. */
export function kindOf(method: MethodShape): GrpcType {
  if (method.requestStream) return method.responseStream ? "bidi_stream" : "client_stream";
  return method.responseStream ? "server_stream" : "unary";
}

// deno-lint-ignore no-explicit-any
type AnyCall = any;
// deno-lint-ignore no-explicit-any
type AnyCallback = (err: any, value?: any) => void;

function bindMethod(method: MethodShape, handler: Handler | undefined, deps: InterceptorDeps) {
  const type = kindOf(method);
  return (call: AnyCall, callback?: AnyCallback) => {
    const run = new CallRun(method, type, call, deps);
    runInCallScope(
      { service: method.service, method: method.name },
      () => run.execute(handler, callback),
    ).catch((err) => deps.logger.error("call wrapper failed", { error: String(err) }));
  };
}

/** One call's journey through the interceptor chain. */
class CallRun {
  readonly #started = performance.now();
  readonly #ctx: CallContext;
  readonly #end: () => void;
  readonly #controller: AbortController;
  #deadlineTimer?: ReturnType<typeof setTimeout>;
  /** The go-grpc-prometheus labels of this call. */
  readonly #labels: { grpc_type: GrpcType; grpc_service: string; grpc_method: string };
  /** Settles once grpc-js has taken the last response message. */
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(
    readonly method: MethodShape,
    readonly type: GrpcType,
    readonly call: AnyCall,
    readonly deps: InterceptorDeps,
  ) {
    const { controller, end } = deps.calls.begin();
    this.#controller = controller;
    this.#end = end;
    this.#ctx = {
      path: method.path,
      metadata: call.metadata,
      signal: controller.signal,
      peer: safePeer(call),
      logFields: {},
      backchannel: backchannelOf(call),
    };
    this.#labels = { grpc_type: type, grpc_service: method.service, grpc_method: method.name };
    deps.metrics.started.inc(this.#labels);
  }

  async execute(handler: Handler | undefined, callback?: AnyCallback): Promise<void> {
    this.#watchCancellation();
    let error: unknown;
    // As go-grpc-prometheus counts: a unary request before any check, a streamed one when read.
    if (this.type === "unary") this.deps.metrics.messagesReceived.inc(this.#labels);
    try {
      this.#authenticate();
      if (!handler) throw unimplemented(this.method.path);
      await this.#invoke(handler, callback);
    } catch (err) {
      error = err;
    }
    if (error !== undefined && !callback) await this.#flushed();
    this.#finish(error, callback);
  }

  /**
   * Waits (briefly) until the last response message has left grpc-js, and
   * a little more, so an error status does not arrive together with it:
   * grpc-js clients under Deno then often drop the message (measured: 12
   * of 40 `exit_status` messages lost without this, none with it; Go
   * clients lose none either way). Only streams that end in an error pay.
   */
  async #flushed(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#lastWrite,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 1000)),
    ]);
    clearTimeout(timer);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }

  #authenticate(): void {
    const { token, transitioning } = this.deps.auth;
    const outcome = token
      ? checkAuthorization(metadataValue(this.call.metadata, "authorization"), token)
      : undefined;
    this.deps.metrics.countAuthentication(outcome, transitioning);
    if (outcome === undefined || outcome === "ok") return;
    if (transitioning) {
      this.#ctx.logFields["auth.error"] = outcome;
      return;
    }
    throw authError(outcome);
  }

  /**
   * Runs the handler within the call's limits. A limited streaming call's
   * key comes from its first request, read here and handed on to the
   * handler first, as Gitaly limits a stream at its first `RecvMsg`.
   */
  async #invoke(handler: Handler, callback?: AnyCallback): Promise<void> {
    const limits = this.deps.limits;
    let requests: AsyncIterable<unknown> = this.#requests();
    if (!limits?.applies(this.method.path)) {
      return await this.#dispatch(handler, requests, callback);
    }
    let first = this.call.request;
    if (this.method.requestStream) {
      const iterator = (requests as AsyncGenerator<unknown>)[Symbol.asyncIterator]();
      const next = await iterator.next();
      first = next.done ? undefined : next.value;
      requests = prepended(next, iterator);
    }
    await limits.run({
      path: this.method.path,
      request: first,
      userId: metadataValue(this.call.metadata, "user_id"),
      signal: this.#ctx.signal,
      logFields: this.#ctx.logFields,
    }, () => this.#dispatch(handler, requests, callback));
  }

  async #dispatch(
    handler: Handler,
    requests: AsyncIterable<unknown>,
    callback?: AnyCallback,
  ): Promise<void> {
    const ctx = this.#ctx;
    const send = (response: unknown) => this.#send(response);
    switch (handler.kind) {
      case "unary":
        callback!(null, this.#sent(await handler.fn(this.call.request, ctx)));
        return;
      case "client_stream":
        callback!(null, this.#sent(await handler.fn(requests, ctx)));
        return;
      case "server_stream":
        this.deps.metrics.messagesReceived.inc(this.#labels);
        await handler.fn(this.call.request, ctx, send);
        break;
      case "bidi_stream":
        await handler.fn(requests, ctx, send);
        break;
    }
    this.call.end();
  }

  /** Counts a response message (or the messages of an encoded batch) as sent and returns it. */
  #sent<T>(response: T): T {
    const count = response instanceof EncodedResponses ? response.count : 1;
    this.deps.metrics.messagesSent.inc(this.#labels, count);
    return response;
  }

  /**
   * Writes one message, waiting for `drain` when grpc-js buffers too much.
   * Once grpc-js has written it, lent bulk buffers in it go back to their pool.
   */
  #send(response: unknown): Promise<void> {
    this.#ctx.signal.throwIfAborted();
    this.#sent(response);
    let writable = true;
    this.#lastWrite = new Promise((resolve) => {
      writable = this.call.write(response, () => {
        giveBackLent(response);
        resolve();
      });
    });
    if (writable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.#ctx.signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.call.off("drain", onDrain);
        reject(this.#ctx.signal.reason);
      };
      this.call.once("drain", onDrain);
      this.#ctx.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * The request stream; ends early (with the abort reason) when the call is aborted.
   * `destroyOnReturn: false`: Node's iterator destroys the duplex when the
   * requests end, which would swallow the responses (and status) of a bidi
   * call that keeps answering after the client half-closed.
   */
  async *#requests(): AsyncGenerator<unknown> {
    for await (const request of this.call.iterator({ destroyOnReturn: false })) {
      this.#ctx.signal.throwIfAborted();
      this.deps.metrics.messagesReceived.inc(this.#labels);
      yield request;
    }
  }

  #watchCancellation(): void {
    this.call.on(
      "cancelled",
      () => this.#controller.abort(new GrpcError(Code.CANCELLED, "call cancelled")),
    );
    const deadline = this.call.getDeadline?.();
    const ms = deadline instanceof Date
      ? deadline.getTime()
      : typeof deadline === "number"
      ? deadline
      : Infinity;
    if (Number.isFinite(ms)) {
      this.#deadlineTimer = setTimeout(
        () => this.#controller.abort(new GrpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded")),
        Math.max(0, ms - Date.now()),
      );
    }
  }

  #finish(error: unknown, callback?: AnyCallback): void {
    clearTimeout(this.#deadlineTimer);
    const status = toGrpcError(error, this.#controller.signal);
    if (status) this.#reportError(status, callback);
    this.#end();
    this.#observe(status);
  }

  #reportError(status: GrpcError, callback?: AnyCallback): void {
    const serviceError = status.toServiceError();
    try {
      if (callback) callback(serviceError);
      else this.call.emit("error", serviceError);
    } catch {
      // The call may already be gone (client cancelled); nothing left to tell.
    }
  }

  #observe(status: GrpcError | undefined): void {
    const code = codeName(status?.code ?? Code.OK);
    const seconds = (performance.now() - this.#started) / 1000;
    this.deps.metrics.observeCall(this.type, this.method.service, this.method.name, code, seconds);
    const level = status && isServerFault(status.code) ? "error" : "info";
    this.deps.logger.log(level, `finished ${this.type} call with code ${code}`, {
      "grpc.service": this.method.service,
      "grpc.method": this.method.name,
      "grpc.code": code,
      "grpc.time_ms": Math.round(seconds * 1e6) / 1e3,
      "grpc.request.deadline": undefined,
      correlation_id: metadataValue(this.call.metadata, "x-gitlab-correlation-id"),
      "grpc.meta.client_name": metadataValue(this.call.metadata, "client_name"),
      "peer.address": this.#ctx.peer,
      error: status && status.code !== Code.OK ? status.message : undefined,
      ...this.#ctx.logFields,
      ...status?.fields,
    });
  }
}

/** The requests of a stream whose first one was already read. */
async function* prepended(
  first: IteratorResult<unknown>,
  rest: AsyncIterator<unknown>,
): AsyncGenerator<unknown> {
  if (first.done) return;
  try {
    yield first.value;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    // A handler that stops reading early ends the underlying stream too.
    await rest.return?.();
  }
}

function isServerFault(code: Code): boolean {
  return code === Code.INTERNAL || code === Code.UNKNOWN || code === Code.DATA_LOSS;
}

/**
 * The backchannel peer of the connection `call` arrived on: grpc-js keeps
 * the call's HTTP/2 stream, whose session's socket is the duplex the
 * backchannel injected (see `serveBackchannel`).
 */
function backchannelOf(call: AnyCall): BackchannelPeer | undefined {
  try {
    return peerOfSocket(call.call?.stream?.session?.socket);
  } catch {
    return undefined;
  }
}

function safePeer(call: AnyCall): string {
  try {
    return call.getPeer();
  } catch {
    return "unknown";
  }
}
