/**
 * `InfoRefsReceivePack`: the body of Smart HTTP's
 * `GET /info/refs?service=git-receive-pack`, from receive-pack's
 * advertisement.
 *
 * @module
 */
import type { Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { advertiseReceivePack } from "../shared/receive_pack.ts";
import { infoRefsHandler } from "./info_refs.ts";

/** Builds the handler. */
export function infoRefsReceivePack(
  deps: ServiceDeps,
): Rpc<"gitaly.SmartHTTPService", "InfoRefsReceivePack"> {
  return infoRefsHandler(
    deps,
    "receive-pack",
    (deps, options, send) =>
      advertiseReceivePack(deps, options, { stdout: (chunk) => send({ data: chunk }) }),
  );
}
