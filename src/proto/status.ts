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

/** A status as Go's gRPC client prints it: `rpc error: code = <Name> desc = <message>`, one line. */
export function describeStatus(code: number, message: string): string {
  return oneLine(`rpc error: code = ${statusCodeName(code)} desc = ${message}`);
}

/** `text` on one line: line breaks and the blanks around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
