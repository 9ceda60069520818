/**
 * Git attributes of paths as a commit's `.gitattributes` files (and the
 * repository's `info/attributes`) define them. `git check-attr --source`
 * needs git 2.40, so the commit's tree is read into a throw-away index and
 * asked with `check-attr --cached`, which works with every git we support.
 *
 * @module
 */
import { join } from "node:path";
import type { GitRunner } from "./command.ts";

/** Attribute values by attribute name: `set`, `unset` or the value (unspecified ones left out). */
export type Attributes = Record<string, string>;

/** Options of {@link checkAttributes}. */
export interface CheckAttributesOptions {
  /** A directory for the temporary index (removed afterwards). */
  tempDir: string;
  signal?: AbortSignal;
}

/**
 * The attributes `names` of each of `paths` in the tree of `treeish`;
 * paths without any specified attribute are absent from the result.
 */
export async function checkAttributes(
  git: GitRunner,
  repoPath: string,
  treeish: string,
  paths: Uint8Array[],
  names: string[],
  options: CheckAttributesOptions,
): Promise<Map<string, Attributes>> {
  const result = new Map<string, Attributes>();
  if (paths.length === 0) return result;
  const dir = await Deno.makeTempDir({ dir: options.tempDir, prefix: "attributes-" });
  try {
    const env = { GIT_INDEX_FILE: join(dir, "index") };
    await git.runOk({
      gitDir: repoPath,
      command: { name: "read-tree", args: [treeish] },
      env,
      signal: options.signal,
    });
    const input = joinNul(paths);
    const { stdout } = await git.runOk({
      gitDir: repoPath,
      command: { name: "check-attr", flags: ["--cached", "-z", "--stdin"], args: names },
      env,
      stdin: input,
      signal: options.signal,
      maxStdout: 1 << 30,
    });
    const fields = new TextDecoder().decode(stdout).split("\0");
    for (let i = 0; i + 2 < fields.length; i += 3) {
      const [path, name, value] = [fields[i], fields[i + 1], fields[i + 2]];
      if (value === "unspecified") continue;
      const attrs = result.get(path) ?? {};
      attrs[name] = value;
      result.set(path, attrs);
    }
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Whether an attribute is set (`attr`, `attr=true`). */
export function isSet(attrs: Attributes | undefined, name: string): boolean {
  const value = attrs?.[name];
  return value === "set" || value === "true";
}

/** Whether an attribute is unset (`-attr`, `attr=false`). */
export function isUnset(attrs: Attributes | undefined, name: string): boolean {
  const value = attrs?.[name];
  return value === "unset" || value === "false";
}

function joinNul(paths: Uint8Array[]): Uint8Array {
  const size = paths.reduce((n, p) => n + p.byteLength + 1, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const path of paths) {
    out.set(path, at);
    at += path.byteLength + 1; // the NUL is already 0
  }
  return out;
}
