/**
 * A test client that starts a full clone over a sidechannel and then
 * vanishes: once `STOP_AFTER` response bytes have arrived it prints
 * `vanishing` and exits on the spot, leaving the server mid-transfer.
 *
 *     deno run -A vanishing_client.ts ADDRESS STORAGE REPO WANT ssh|post STOP_AFTER
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import {
  dialSidechannel,
  postUploadPackWithSidechannel,
  sshUploadPackWithSidechannel,
} from "../../src/client/sidechannel.ts";
import { encodePktLine, flushPkt } from "../../src/git/pktline.ts";
import { SidechannelRegistry } from "../../src/sidechannel/registry.ts";

const [address, storage, repo, want, rpc, stopAfter] = Deno.args;
const request = {
  repository: { storage_name: storage, relative_path: repo },
};
const caps = rpc === "ssh" ? "side-band-64k ofs-delta" : "ofs-delta";
const body = ReadableStream.from([
  encodePktLine(`want ${want} ${caps}\n`),
  flushPkt(),
  encodePktLine("done\n"),
]);

let received = 0;
const count = (chunk: Uint8Array) => {
  received += chunk.byteLength;
  if (received >= Number(stopAfter)) {
    console.log("vanishing");
    Deno.exit(0); // no goodbye: the connection just drops
  }
  return Promise.resolve();
};

const registry = new SidechannelRegistry();
const client = dialSidechannel(address, registry);
try {
  if (rpc === "ssh") {
    await sshUploadPackWithSidechannel(client, registry, request, {
      stdin: body,
      stdout: count,
      stderr: () => Promise.resolve(),
    });
  } else {
    await postUploadPackWithSidechannel(client, registry, request, { body, response: count });
  }
  console.log(`finished after ${received} bytes`);
} catch (error) {
  console.log(`failed: ${(error as grpc.ServiceError).message}`);
} finally {
  client.close();
}
