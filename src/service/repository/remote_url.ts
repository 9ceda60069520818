/**
 * Remote URL helpers shared by the RPCs that talk to arbitrary remotes:
 * pinning a host to a resolved IP address and building Basic credentials.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import { invalidArgument } from "../../server/errors.ts";

/** The URL to use and the settings that make git connect to `resolvedAddress`. */
export interface ResolvedRemote {
  url: string;
  config: GitConfigEntry[];
}

/**
 * Pins the remote's host to `resolvedAddress` (an IPv4 or IPv6 address):
 * `http.curloptResolve` for http(s)/git URLs, the host replaced for ssh and
 * scp-like URLs. `InvalidArgument` when either value is unusable.
 */
export function resolveConfig(remoteUrl: string, resolvedAddress: string): ResolvedRemote {
  const fail = (why: string) => invalidArgument(`couldn't get curloptResolve config: ${why}`);
  if (!remoteUrl) throw fail("URL is empty");
  if (!isIpAddress(resolvedAddress)) throw fail("resolved address has invalid IPv4/IPv6 address");
  if (/^(https?|git):\/\//.test(remoteUrl)) {
    const url = parse(remoteUrl, fail);
    const port = url.port || { "http:": "80", "https:": "443", "git:": "9418" }[url.protocol]!;
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return {
      url: remoteUrl,
      config: [{ key: "http.curloptResolve", value: `${host}:${port}:${resolvedAddress}` }],
    };
  }
  if (remoteUrl.startsWith("ssh://")) {
    const url = parse(remoteUrl, fail);
    url.hostname = resolvedAddress.includes(":") ? `[${resolvedAddress}]` : resolvedAddress;
    return { url: url.toString(), config: [] };
  }
  const colon = remoteUrl.indexOf(":");
  if (colon < 0) throw fail(`invalid protocol/URL encountered: ${remoteUrl}`);
  const hostPart = remoteUrl.slice(0, colon);
  if (hostPart.includes("/")) throw fail("SSH URLs with '/' before colon are unsupported");
  const at = hostPart.indexOf("@");
  const user = at >= 0 ? hostPart.slice(0, at + 1) : "";
  return { url: `${user}${resolvedAddress}:${remoteUrl.slice(colon + 1)}`, config: [] };
}

/** `user:password` as an `Authorization: Basic …` header value. */
export function basicAuthorization(user: string, password?: string): string {
  const credentials = password === undefined ? user : `${user}:${password}`;
  const bytes = new TextEncoder().encode(credentials);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function parse(url: string, fail: (why: string) => Error): URL {
  try {
    return new URL(url);
  } catch {
    throw fail(`couldn't parse remoteURL: ${url}`);
  }
}

function isIpAddress(text: string): boolean {
  if (/^(\d{1,3})(\.\d{1,3}){3}$/.test(text)) return text.split(".").every((n) => Number(n) <= 255);
  return text.includes(":") && /^[0-9a-fA-F:.]+$/.test(text);
}
