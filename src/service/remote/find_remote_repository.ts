/**
 * `FindRemoteRepository`: whether a URL answers like a git repository with
 * a HEAD (`git ls-remote <url> HEAD` prints one object id). Any failure
 * means "no".
 *
 * @module
 */
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";

/** Builds the handler. */
export function findRemoteRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RemoteService", "FindRemoteRepository"> {
  return unary(
    async (req, ctx) => {
      if (!req.remote) throw invalidArgument("empty remote can't be checked.");
      const result = await deps.git.run({
        args: ["ls-remote", "--", req.remote, "HEAD"],
        signal: ctx.signal,
      });
      if (result.code !== 0) return { exists: false };
      const match = /^([0-9a-f]+)\tHEAD\n/.exec(new TextDecoder().decode(result.stdout));
      return { exists: match !== null && (match[1].length === 40 || match[1].length === 64) };
    },
  );
}
