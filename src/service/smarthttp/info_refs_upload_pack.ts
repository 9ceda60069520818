/**
 * `InfoRefsUploadPack`: the body of Smart HTTP's
 * `GET /info/refs?service=git-upload-pack`, from
 * `git upload-pack --stateless-rpc --advertise-refs`.
 *
 * @module
 */
import type { Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { runUploadPack } from "../shared/upload_pack.ts";
import { infoRefsHandler } from "./info_refs.ts";

/** Builds the handler. */
export function infoRefsUploadPack(
  deps: ServiceDeps,
): Rpc<"gitaly.SmartHTTPService", "InfoRefsUploadPack"> {
  return infoRefsHandler(
    deps,
    "upload-pack",
    (deps, options, send) =>
      runUploadPack(deps.git, { ...options, statelessRpc: true, advertiseRefs: true }, {
        stdout: (chunk) => send({ data: chunk }),
      }),
  );
}
