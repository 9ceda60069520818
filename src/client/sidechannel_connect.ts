/**
 * Dialing for sidechannel calls (Go's `client.DialSidechannel`): the
 * connection speaks the backchannel protocol so the server can open
 * sidechannels back to us, and `registry` answers them. Transport
 * credentials are picked as `dial` picks them (including TLS to an IP
 * address), and {@link dialSidechannelContext} waits for the connection
 * like `dialContext`.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { SidechannelRegistry } from "../sidechannel/registry.ts";
import { parseAddress } from "./address.ts";
import { type ReadyOptions, waitForReady } from "./connect.ts";
import { transportCredentials } from "./dial.ts";
import { dialSidechannel as dialBackchannel, type SidechannelDialOptions } from "./sidechannel.ts";

/** Options of {@link dialSidechannel}: `dial`'s, plus Yamux settings and a callback server. */
export type { SidechannelDialOptions };

/**
 * A client for `address` whose server can open sidechannels answered by
 * `registry`. Returns at once (connects on the first call); throws
 * `AddressError` for an address it cannot dial.
 */
export function dialSidechannel(
  address: string,
  registry: SidechannelRegistry,
  options: SidechannelDialOptions = {},
): grpc.Client {
  const credentials = options.credentials ??
    transportCredentials(parseAddress(address), options.caCertificates);
  return dialBackchannel(address, registry, { ...options, credentials });
}

/** {@link dialSidechannel} that resolves once connected (see `dialContext` for the options). */
export async function dialSidechannelContext(
  address: string,
  registry: SidechannelRegistry,
  options: SidechannelDialOptions & ReadyOptions = {},
): Promise<grpc.Client> {
  options.signal?.throwIfAborted();
  const client = dialSidechannel(address, registry, options);
  try {
    await waitForReady(client, address, options);
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}
