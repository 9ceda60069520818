/**
 * One way to build gRPC errors: handlers throw a {@link GrpcError}; the
 * interceptor turns anything else into `Internal` without leaking details.
 *
 * @module
 */
import { Metadata, status } from "@grpc/grpc-js";

/** The gRPC status codes, re-exported so handlers need not import grpc-js. */
export const Code = status;
/** A gRPC status code. */
export type Code = status;

/** An error carrying a gRPC status code, a message and optional metadata. */
export class GrpcError extends Error {
  /** The status code sent to the client. */
  readonly code: Code;
  /** Extra key/value pairs that are logged (never sent) to help operators. */
  readonly fields: Record<string, string>;

  constructor(code: Code, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = "GrpcError";
    this.code = code;
    this.fields = fields;
  }

  /** The shape grpc-js expects for a callback or `emit("error")`. */
  toServiceError(): { code: Code; details: string; metadata: Metadata } {
    return { code: this.code, details: this.message, metadata: new Metadata() };
  }
}

/** `InvalidArgument` with a message. */
export function invalidArgument(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.INVALID_ARGUMENT, message, fields);
}

/** `NotFound` with a message. */
export function notFound(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.NOT_FOUND, message, fields);
}

/** `FailedPrecondition` with a message. */
export function failedPrecondition(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.FAILED_PRECONDITION, message, fields);
}

/** `AlreadyExists` with a message. */
export function alreadyExists(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.ALREADY_EXISTS, message, fields);
}

/** `Internal` with a message. */
export function internal(message: string, fields?: Record<string, string>): GrpcError {
  return new GrpcError(Code.INTERNAL, message, fields);
}

/** `Unimplemented` for a method we do not serve. */
export function unimplemented(method: string): GrpcError {
  return new GrpcError(Code.UNIMPLEMENTED, `${method} is not implemented`);
}

/** The name of a status code, e.g. `NotFound`, as Gitaly's logs and metrics spell it. */
export function codeName(code: Code): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
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
