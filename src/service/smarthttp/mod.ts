/**
 * `gitaly.SmartHTTPService`: the RPCs behind git's Smart HTTP transport.
 * `PostUploadPackWithSidechannel` carries its bytes over a sidechannel.
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { infoRefsReceivePack } from "./info_refs_receive_pack.ts";
import { infoRefsUploadPack } from "./info_refs_upload_pack.ts";
import { postReceivePack } from "./post_receive_pack.ts";
import { postUploadPackWithSidechannel } from "./post_upload_pack_with_sidechannel.ts";

/** Builds the service's handlers. */
export function smartHttpService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.SmartHTTPService", {
    InfoRefsUploadPack: infoRefsUploadPack(deps),
    InfoRefsReceivePack: infoRefsReceivePack(deps),
    PostReceivePack: postReceivePack(deps),
    PostUploadPackWithSidechannel: postUploadPackWithSidechannel(deps),
  });
}
