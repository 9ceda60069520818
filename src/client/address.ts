/**
 * Gitaly addresses, as Gitaly's Go client accepts them, and what a gRPC channel needs to
 * reach them: `unix:/path`, `tcp://host:port`, `tls://host:port`,
 * `dns:///host:port` and `dns://resolver/host:port`.
 *
 * @module
 */

/** The connection kinds a Gitaly address can name. */
export type AddressScheme = "unix" | "tcp" | "tls" | "dns";

/** A validated address. */
export interface ParsedAddress {
  /** The address as given. */
  raw: string;
  scheme: AddressScheme;
  /** The grpc-js target string for this address. */
  target: string;
  /** True for `tls://`: the channel must use TLS. */
  secure: boolean;
}

/** An address the client cannot dial; the message says why. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

/** Parses and validates `address`; throws {@link AddressError}. */
export function parseAddress(address: string): ParsedAddress {
  if (address === "") throw new AddressError("address is empty");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(address)?.[1].toLowerCase();
  switch (scheme) {
    case "unix":
      return unixAddress(address);
    case "tcp":
    case "tls":
      return hostAddress(address, scheme);
    case "dns":
      return dnsAddress(address);
    default:
      throw new AddressError(`invalid connection string: ${JSON.stringify(address)}`);
  }
}

/** `unix:/abs`, `unix:relative` and `unix:///abs` all name a socket path; grpc-js reads all three. */
function unixAddress(address: string): ParsedAddress {
  const path = address.slice("unix:".length);
  if (path === "" || path === "//") {
    throw new AddressError(`no socket path in ${JSON.stringify(address)}`);
  }
  return { raw: address, scheme: "unix", target: address, secure: false };
}

/** `tcp://host:port` and `tls://host:port`: a host and port, nothing else. */
function hostAddress(address: string, scheme: "tcp" | "tls"): ParsedAddress {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new AddressError(`failed to parse ${scheme} address ${JSON.stringify(address)}`);
  }
  const path = /^[a-z]+:\/\/[^/]*(.*)$/i.exec(address)?.[1] ?? "";
  if (path !== "") {
    throw new AddressError(`remote addresses should not have a path: ${JSON.stringify(path)}`);
  }
  if (url.hostname === "") throw new AddressError("remote addresses should have a host");
  return { raw: address, scheme, target: url.host, secure: scheme === "tls" };
}

/** `dns:[//resolver]/host[:port]`: grpc-js resolves these itself. */
function dnsAddress(address: string): ParsedAddress {
  const rest = address.slice("dns:".length);
  // With an authority (`//resolver`), the host follows the next slash.
  const host = rest.startsWith("//")
    ? /^\/\/[^/]*\/(.*)$/.exec(rest)?.[1]
    : rest.replace(/^\//, "");
  if (!host) throw new AddressError(`dns resolver: missing address in ${JSON.stringify(address)}`);
  return { raw: address, scheme: "dns", target: address, secure: false };
}
