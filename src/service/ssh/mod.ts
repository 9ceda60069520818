/**
 * `gitaly.SSHService`: git's SSH transport (fetch, push, archive) as bidi
 * streams, plus `SSHUploadPackWithSidechannel` (unary; the bytes travel over
 * a sidechannel).
 *
 * @module
 */
import { defineService, type ServiceImplementation } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { sshReceivePack } from "./ssh_receive_pack.ts";
import { sshUploadArchive } from "./ssh_upload_archive.ts";
import { sshUploadPack } from "./ssh_upload_pack.ts";
import { sshUploadPackWithSidechannel } from "./ssh_upload_pack_with_sidechannel.ts";

/** Builds the service's handlers. */
export function sshService(deps: ServiceDeps): ServiceImplementation {
  return defineService("gitaly.SSHService", {
    SSHUploadPack: sshUploadPack(deps),
    SSHReceivePack: sshReceivePack(deps),
    SSHUploadArchive: sshUploadArchive(deps),
    SSHUploadPackWithSidechannel: sshUploadPackWithSidechannel(deps),
  });
}
