/**
 * Parsing and comparing git version strings.
 *
 * @module
 */

/**
 * Extracts the version from `git version` output, e.g.
 * `git version 2.42.0.gitlab.1` → `2.42.0.gitlab.1`.
 * Throws when the output does not look like git's.
 */
export function parseGitVersionOutput(output: string): string {
  const match = /^git version (\S+)/.exec(output.trim());
  if (!match) throw new Error(`unexpected "git version" output: ${JSON.stringify(output)}`);
  return match[1];
}

/** The leading numeric parts of a version: `2.39.5.windows.1` → [2, 39, 5]. */
export function numericVersionParts(version: string): number[] {
  const parts: number[] = [];
  for (const part of version.split(".")) {
    if (!/^\d+$/.test(part)) break;
    parts.push(Number(part));
  }
  return parts;
}

/** True when `version` is at least `minimum` (missing parts count as 0). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const have = numericVersionParts(version);
  const want = numericVersionParts(minimum);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}
