/**
 * Describing failed calls the way Go's gRPC does (`rpc error: code =
 * NotFound desc = …`), so messages read the same whichever client failed.
 *
 * @module
 */
import { describeStatus, oneLine, statusCodeName } from "../proto/status.ts";

export { statusCodeName };

/** Whether `error` is a grpc-js call error (it has a numeric `code` and `details`). */
export function isCallError(error: unknown): error is { code: number; details: string } {
  return typeof error === "object" && error !== null &&
    typeof (error as { code?: unknown }).code === "number" &&
    typeof (error as { details?: unknown }).details === "string";
}

/** One line describing `error`: Go's wording for call errors, the message otherwise. */
export function describeError(error: unknown): string {
  return isCallError(error)
    ? describeStatus(error.code, error.details)
    : oneLine(error instanceof Error ? error.message : String(error));
}
