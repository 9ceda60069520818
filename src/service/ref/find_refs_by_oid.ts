import { GitCommandError } from "../../git/command.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import {
  POINTS_AT_FIELDS,
  pointsAtFilter,
  sendRefLines,
  splitRefLine,
  validateRefArgument,
} from "./for_each_ref.ts";

const decoder = new TextDecoder();

/**
 * `FindRefsByOID`: the names of references (by default tags and branches)
 * pointing at `oid` (directly or through tags), sorted by `sort_field`, at
 * most `limit` when it is positive.
 */
export function findRefsByOid(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindRefsByOID"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.oid === "") throw invalidArgument("empty Oid");
    validateRefArgument(req.oid, "oid");
    const patterns = req.ref_patterns.length > 0 ? req.ref_patterns : ["refs/tags/", "refs/heads/"];
    for (const pattern of patterns) validateRefArgument(pattern, "ref pattern");
    // Gitaly hands the (unsigned) limit to git as --count, which refuses one
    // beyond a signed 32-bit integer as bad usage.
    if (req.limit > 2 ** 31 - 1) {
      throw new GrpcError(Code.INVALID_ARGUMENT, "for-each-ref pipeline command: exit status 129", {
        fields: { reason: `limit ${req.limit} out of range` },
      });
    }
    const flags = [`--format=%(refname)%00${POINTS_AT_FIELDS}`];
    if (req.sort_field !== "") flags.push(`--sort=${req.sort_field}`);
    let filter;
    try {
      filter = await pointsAtFilter(deps, repoPath, [req.oid], ctx.signal);
    } catch (error) {
      // git's answer to a bad --points-at: usage error, exit status 129
      throw new GrpcError(Code.INVALID_ARGUMENT, "for-each-ref pipeline command: exit status 129", {
        cause: error,
      });
    }
    const refs: string[] = [];
    try {
      await sendRefLines(deps, repoPath, {
        flags,
        patterns,
        filter,
        pagination: req.limit > 0 ? { limit: req.limit } : undefined,
        signal: ctx.signal,
      }, (lines) => {
        for (const line of lines) refs.push(decoder.decode(splitRefLine(line, 5)[0]));
        return Promise.resolve();
      });
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (!(cause instanceof GitCommandError)) throw error;
      // A sort field git does not know is bad input (Gitaly: Internal).
      const code = cause.stderr.includes("unknown field name")
        ? Code.INVALID_ARGUMENT
        : Code.INTERNAL;
      throw new GrpcError(code, `for-each-ref pipeline command: exit status ${cause.code}`, {
        cause,
      });
    }
    return { refs };
  });
}
