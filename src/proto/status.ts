/**
 * gRPC status code names as Go prints them (`NotFound`, `Canceled`, …):
 * the one table the server's errors, the client's messages and the
 * backchannel's calls share.
 *
 * @module
 */

const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

/** The name of gRPC status `code`, e.g. `NotFound`; `Code(n)` for codes gRPC does not define. */
export function statusCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}
