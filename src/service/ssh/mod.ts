/**
 * `gitaly.SSHService`: git's SSH transport (fetch, push, archive) as bidi
 * streams, plus `SSHUploadPackWithSidechannel` (unary; the bytes travel over
 * a sidechannel).
 *
 * @module
 */
import type { ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sshReceivePack } from "./receive_pack.ts";
import { sshUploadArchive } from "./upload_archive.ts";
import { sshUploadPack } from "./upload_pack.ts";
import { sshUploadPackWithSidechannel } from "./upload_pack_sidechannel.ts";

/** Builds the service's handlers. */
export function sshService(deps: ServiceDeps): ServiceImplementation {
  return {
    service: "gitaly.SSHService",
    handlers: {
      SSHUploadPack: sshUploadPack(deps),
      SSHReceivePack: sshReceivePack(deps),
      SSHUploadArchive: sshUploadArchive(deps),
      SSHUploadPackWithSidechannel: sshUploadPackWithSidechannel(deps),
    },
  };
}
