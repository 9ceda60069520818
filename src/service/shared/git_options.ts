/**
 * Per-request git settings shared by the transport RPCs (SSH and Smart
 * HTTP): `git_config_options` turned into validated `-c` entries,
 * `git_protocol` turned into `GIT_PROTOCOL`, and the configuration Gitaly
 * gives every upload-pack and receive-pack it spawns.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import { goQuote } from "../../git/goquote.ts";
import { invalidArgument } from "../../server/errors.ts";

/** Config keys as Gitaly accepts them: a section, then dot-separated parts. */
const CONFIG_KEY = /^[A-Za-z0-9]+(\.[*-/_:@a-zA-Z0-9]+)+$/;

/**
 * Parses `key=value` strings (the `git_config_options` request field) into
 * config entries. Anything git could misread (no `=`, a key without a
 * section, odd characters) is `InvalidArgument`.
 */
export function parseGitConfigOptions(options: readonly string[] | undefined): GitConfigEntry[] {
  return (options ?? []).map(parseGitConfigOption);
}

function parseGitConfigOption(option: string): GitConfigEntry {
  const eq = option.indexOf("=");
  if (eq < 0) throw invalidArgument(`cannot convert invalid config key: ${goQuote(option)}`);
  const key = option.slice(0, eq);
  const value = option.slice(eq + 1);
  const problem = configKeyProblem(key);
  if (problem) {
    throw invalidArgument(`invalid configuration key ${goQuote(key)}: key: ${problem}`);
  }
  if (value.includes("\0") || value.includes("\n")) {
    throw invalidArgument(`invalid configuration value for key ${goQuote(key)}`);
  }
  return { key, value };
}

/** Why `key` is not a usable config key, in Gitaly's words; undefined when it is fine. */
function configKeyProblem(key: string): string | undefined {
  if (key === "") return "not set";
  if (!key.includes(".")) return `key ${goQuote(key)} must contain at least one section`;
  if (key.startsWith(".") || key.endsWith(".")) {
    return `key ${goQuote(key)} must not start or end with a dot`;
  }
  if (!CONFIG_KEY.test(key)) return `key ${goQuote(key)} failed regexp validation`;
  return undefined;
}

/**
 * The environment that selects the wire protocol: `GIT_PROTOCOL` is set
 * only for the values git understands (`version=1`, `version=2`); anything
 * else means protocol v0, as in Gitaly.
 */
export function gitProtocolEnv(gitProtocol: string | undefined): Record<string, string> {
  if (gitProtocol === "version=2" || gitProtocol === "version=1") {
    return { GIT_PROTOCOL: gitProtocol };
  }
  return {};
}

/** Internal ref prefixes that clients must neither see nor fetch. */
const HIDDEN_REF_PREFIXES = ["refs/keep-around/", "refs/remotes/", "refs/tmp/"];
/** Internal ref prefixes clients may read but never push to. */
const READONLY_REF_PREFIXES = ["refs/environments/", "refs/merge-requests/", "refs/pipelines/"];

/** Pack settings Gitaly uses for every command that writes packs. */
function packConfig(): GitConfigEntry[] {
  const threads = Math.max(1, Math.floor(Math.log2(navigator.hardwareConcurrency || 1)));
  return [
    { key: "pack.windowMemory", value: "100m" },
    { key: "pack.writeReverseIndex", value: "true" },
    { key: "pack.threads", value: String(threads) },
  ];
}

/** The `-c` entries every `git upload-pack` gets before the request's own. */
export function uploadPackConfig(): GitConfigEntry[] {
  return [
    // Partial clones and fetching any reachable object by id.
    { key: "uploadpack.allowFilter", value: "true" },
    { key: "uploadpack.allowAnySHA1InWant", value: "true" },
    ...HIDDEN_REF_PREFIXES.map((value) => ({ key: "uploadpack.hideRefs", value })),
    ...packConfig(),
  ];
}

/** The `-c` entries every `git receive-pack` gets before the request's own. */
export function receivePackConfig(): GitConfigEntry[] {
  return [
    // A pool's refs must not show up in the advertisement: git appends the
    // pool path to this command, and `#` turns it into a comment.
    { key: "core.alternateRefsCommand", value: "exit 0 #" },
    { key: "receive.advertisePushOptions", value: "true" },
    ...[...HIDDEN_REF_PREFIXES, ...READONLY_REF_PREFIXES].map((value) => ({
      key: "receive.hideRefs",
      value,
    })),
    // Received objects come from an untrusted source: check them, but let
    // old, harmless oddities through.
    { key: "transfer.fsckObjects", value: "true" },
    { key: "receive.fsck.badTimezone", value: "ignore" },
    { key: "receive.fsck.missingSpaceBeforeDate", value: "ignore" },
    { key: "receive.fsck.zeroPaddedFilemode", value: "ignore" },
    ...packConfig(),
  ];
}

export { goQuote };
