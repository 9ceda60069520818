/**
 * The one error model, after Gitaly's `structerr`: handlers throw a
 * {@link GrpcError} (a code, a message, the cause it wraps, fields for the
 * log and structured `gitaly.*Error` details for the client); anything else
 * is mapped to a code once, at the boundary, by {@link toGrpcError}.
 *
 * Details travel as Gitaly sends them: a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer whose `details` are `google.protobuf.Any`
 * messages (`type.googleapis.com/gitaly.FindTagError`, …), so Go clients can
 * read them with `status.FromError(err).Details()`.
 *
 * @module
 */
import { Metadata, status } from "@grpc/grpc-js";
import protobuf from "../proto/protobuf.ts";
import { messageType } from "../proto/mod.ts";

/** The gRPC status codes, re-exported so handlers need not import grpc-js. */
export const Code = status;
/** A gRPC status code. */
export type Code = status;

/** One structured detail: a message of a named protobuf type. */
export interface ErrorDetail {
  /** Fully qualified message type, e.g. `gitaly.FindTagError`. */
  type: string;
  /** The message, as protobufjs `fromObject` accepts it (proto field names). */
  value: Record<string, unknown>;
}

/** Options of {@link GrpcError}. */
export interface GrpcErrorOptions {
  /** Extra key/value pairs that are logged (never sent) to help operators. */
  fields?: Record<string, string>;
  /** Structured details sent to the client. */
  details?: ErrorDetail[];
  /** The error this one wraps. */
  cause?: unknown;
}

/** An error carrying a gRPC status code, a message, its cause, log fields and details. */
export class GrpcError extends Error {
  /** The status code sent to the client. */
  readonly code: Code;
  /** Extra key/value pairs that are logged (never sent) to help operators. */
  readonly fields: Record<string, string>;
  /** Structured details sent to the client in `grpc-status-details-bin`. */
  readonly details: ErrorDetail[];

  constructor(code: Code, message: string, options: GrpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GrpcError";
    this.code = code;
    this.fields = { ...options.fields };
    this.details = [...(options.details ?? [])];
  }

  /** Adds a structured detail (e.g. `withDetail("gitaly.FindTagError", {...})`); returns `this`. */
  withDetail(type: string, value: Record<string, unknown>): this {
    this.details.push({ type, value });
    return this;
  }

  /** Adds a log field; returns `this`. */
  withField(key: string, value: string | number): this {
    this.fields[key] = String(value);
    return this;
  }

  /** The shape grpc-js expects for a callback or `emit("error")`. */
  toServiceError(): { code: Code; details: string; metadata: Metadata } {
    const metadata = new Metadata();
    if (this.details.length > 0) {
      let encoded: ReturnType<typeof encodeStatus>;
      try {
        encoded = encodeStatus(this.code, this.message, this.details);
      } catch (error) {
        // A detail that cannot be encoded must still end the call (as Gitaly's "error details").
        return {
          code: Code.INTERNAL,
          details: `error details: ${(error as Error).message}`,
          metadata,
        };
      }
      metadata.set("grpc-status-details-bin", encoded);
    }
    return { code: this.code, details: this.message, metadata };
  }
}

/**
 * Wraps `error` with context, as Go's `fmt.Errorf("context: %w", err)`: a
 * {@link GrpcError} keeps its code, details and fields; anything else becomes
 * `fallback` (default `Internal`) with the cause's message.
 */
export function wrapError(
  context: string,
  error: unknown,
  fallback: Code = Code.INTERNAL,
): GrpcError {
  if (error instanceof GrpcError) {
    return new GrpcError(error.code, `${context}: ${error.message}`, {
      fields: error.fields,
      details: error.details,
      cause: error,
    });
  }
  const call = error as { code?: unknown; details?: unknown } | null;
  if (typeof call?.code === "number" && typeof call.details === "string" && call.code !== 2) {
    // A failed call to another server (a grpc-js ServiceError) keeps its code.
    return new GrpcError(call.code as Code, `${context}: ${call.details}`, { cause: error });
  }
  return new GrpcError(fallback, `${context}: ${messageOf(error)}`, { cause: error });
}

/** `InvalidArgument` with a message. */
export function invalidArgument(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.INVALID_ARGUMENT, message, { fields });
}

/** `NotFound` with a message. */
export function notFound(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.NOT_FOUND, message, { fields });
}

/** `FailedPrecondition` with a message. */
export function failedPrecondition(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.FAILED_PRECONDITION, message, { fields });
}

/** `AlreadyExists` with a message. */
export function alreadyExists(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.ALREADY_EXISTS, message, { fields });
}

/** `Internal` with a message. */
export function internal(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.INTERNAL, message, { fields });
}

/** `Unimplemented` for a method we do not serve. */
export function unimplemented(method: string): GrpcError {
  return new GrpcError(Code.UNIMPLEMENTED, `${method} is not implemented`);
}

/**
 * Maps whatever a handler threw to a {@link GrpcError}, once, at the
 * boundary; `undefined` means OK. An aborted call reports the abort's
 * reason (cancelled, deadline exceeded, server stopping). Errors of lower
 * layers that name their code in a numeric `grpcCode` (e.g. an invalid
 * revision) get it; anything else is `Internal` with its message (a failed
 * git command says which, its exit status and the last line of its
 * stderr), the stack going to the log.
 */
export function toGrpcError(error: unknown, signal?: AbortSignal): GrpcError | undefined {
  if (error === undefined) return undefined;
  if (error instanceof GrpcError) return error;
  if (signal?.aborted && signal.reason instanceof GrpcError) return signal.reason;
  const coded = error as { grpcCode?: unknown; message?: unknown } | null;
  if (typeof coded?.grpcCode === "number" && typeof coded.message === "string") {
    // Lower layers (git) cannot import this module; they name their code instead.
    return new GrpcError(coded.grpcCode as Code, coded.message, { cause: error });
  }
  const logFields = (error as { logFields?: () => Record<string, string> } | null)?.logFields?.();
  return new GrpcError(Code.INTERNAL, messageOf(error), {
    cause: error,
    fields: { ...logFields, "error.detail": String((error as Error)?.stack ?? error) },
  });
}

/** The name of a status code, e.g. `NotFound`, as Gitaly's logs and metrics spell it. */
export function codeName(code: Code): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

/** Decodes a `grpc-status-details-bin` value into its details (for clients and tests). */
export function decodeStatusDetails(bytes: Uint8Array): {
  code: number;
  message: string;
  details: { type: string; value: Record<string, unknown> }[];
} {
  const reader = protobuf.Reader.create(bytes);
  let code = 0;
  let message = "";
  const details: { type: string; value: Record<string, unknown> }[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag >>> 3) {
      case 1:
        code = reader.int32();
        break;
      case 2:
        message = reader.string();
        break;
      case 3: {
        const any = protobuf.Reader.create(reader.bytes());
        let typeUrl = "";
        let value: Uint8Array = new Uint8Array();
        while (any.pos < any.len) {
          const anyTag = any.uint32();
          if (anyTag >>> 3 === 1) typeUrl = any.string();
          else if (anyTag >>> 3 === 2) value = any.bytes();
          else any.skipType(anyTag & 7);
        }
        const type = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
        let decoded: Record<string, unknown> = {};
        try {
          decoded = messageType(type).toObject(messageType(type).decode(value), { bytes: Array });
        } catch {
          decoded = { unknown: Array.from(value) };
        }
        details.push({ type, value: decoded });
        break;
      }
      default:
        reader.skipType(tag & 7);
    }
  }
  return { code, message, details };
}

function encodeStatus(code: Code, message: string, details: ErrorDetail[]): Buffer {
  const writer = protobuf.Writer.create();
  if (code !== 0) writer.uint32(8).int32(code);
  if (message) writer.uint32(18).string(message);
  for (const detail of details) {
    const type = messageType(detail.type);
    const value = type.encode(type.fromObject(detail.value)).finish();
    writer.uint32(26).fork()
      .uint32(10).string(`type.googleapis.com/${detail.type}`)
      .uint32(18).bytes(value)
      .ldelim();
  }
  return Buffer.from(writer.finish());
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const CODE_NAMES: Record<number, string> = {
  0: "OK",
  1: "Canceled",
  2: "Unknown",
  3: "InvalidArgument",
  4: "DeadlineExceeded",
  5: "NotFound",
  6: "AlreadyExists",
  7: "PermissionDenied",
  8: "ResourceExhausted",
  9: "FailedPrecondition",
  10: "Aborted",
  11: "OutOfRange",
  12: "Unimplemented",
  13: "Internal",
  14: "Unavailable",
  15: "DataLoss",
  16: "Unauthenticated",
};
