/**
 * `gitaly.SmartHTTPService`: the RPCs behind git's Smart HTTP transport.
 * `PostUploadPackWithSidechannel` carries its bytes over a sidechannel.
 *
 * @module
 */
import type { ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { infoRefsReceivePack, infoRefsUploadPack } from "./info_refs.ts";
import { postUploadPackWithSidechannel } from "./post_upload_pack_sidechannel.ts";
import { postReceivePack } from "./receive_pack.ts";

/** Builds the service's handlers. */
export function smartHttpService(deps: ServiceDeps): ServiceImplementation {
  return {
    service: "gitaly.SmartHTTPService",
    handlers: {
      InfoRefsUploadPack: infoRefsUploadPack(deps),
      InfoRefsReceivePack: infoRefsReceivePack(deps),
      PostReceivePack: postReceivePack(deps),
      PostUploadPackWithSidechannel: postUploadPackWithSidechannel(deps),
    },
  };
}
