/**
 * Feature flags as Gitaly sends them: metadata `gitaly-feature-<name>` with
 * `_` turned into `-`, valued `true` or `false`.
 *
 * @module
 */

/** The metadata key Gitaly reads feature flag `name` from. */
export function featureFlagMetadataKey(name: string): string {
  return `gitaly-feature-${name.replaceAll("_", "-")}`;
}

/** Metadata headers for `flags` (flag name → enabled). */
export function featureFlagMetadata(flags: Record<string, boolean>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, enabled] of Object.entries(flags)) {
    headers[featureFlagMetadataKey(name)] = String(enabled);
  }
  return headers;
}

/**
 * Parses the `GITALY_FEATUREFLAGS` format, `name:true,other:false`. Like
 * gitaly-ssh, entries without a colon or with a value that is not a boolean
 * are skipped.
 */
export function parseFeatureFlagList(list: string): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  for (const pair of list.split(",")) {
    const colon = pair.indexOf(":");
    if (colon < 0) continue;
    const enabled = parseGoBool(pair.slice(colon + 1));
    if (enabled !== undefined) flags[pair.slice(0, colon)] = enabled;
  }
  return flags;
}

/** Formats flags back into the `GITALY_FEATUREFLAGS` list. */
export function formatFeatureFlagList(flags: Record<string, boolean>): string {
  return Object.entries(flags).map(([name, enabled]) => `${name}:${enabled}`).join(",");
}

/** Go's strconv.ParseBool: the spellings it accepts, undefined for anything else. */
function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  return undefined;
}
