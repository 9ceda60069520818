/**
 * `ClockSynced`: whether our clock is within `drift_threshold` of the NTP
 * server named in the request (default `pool.ntp.org`, port 123), as
 * Praefect's `check` asks every node.
 *
 * @module
 */
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { ntpAnswerProblem, queryNtp } from "./ntp.ts";

/** Builds the handler. */
export function clockSynced(_deps: ServiceDeps): Rpc<"gitaly.ServerService", "ClockSynced"> {
  return unary(async (req, ctx) => {
    const threshold = req.drift_threshold;
    if (!threshold) throw invalidArgument("proto: invalid nil Duration");
    const seconds = Number(threshold.seconds);
    if (
      Math.abs(seconds) > 315576000000 || Math.abs(threshold.nanos) >= 1e9 ||
      (seconds > 0 && threshold.nanos < 0) || (seconds < 0 && threshold.nanos > 0)
    ) {
      throw invalidArgument(
        `proto: duration (seconds:${seconds} nanos:${threshold.nanos}) has seconds and nanos with different signs`,
      );
    }
    const thresholdMs = seconds * 1000 + threshold.nanos / 1e6;
    const host = req.ntp_host || "pool.ntp.org";
    const answer = await queryNtp(host, 5000, ctx.signal).catch((error) => {
      throw new GrpcError(Code.INTERNAL, `query ntp: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const problem = ntpAnswerProblem(answer);
    if (problem) throw new GrpcError(Code.INTERNAL, `validate ntp response: ${problem}`);
    return { synced: Math.abs(answer.offsetMs) <= thresholdMs };
  });
}
