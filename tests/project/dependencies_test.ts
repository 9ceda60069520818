/**
 * The npm dependencies as a fresh clone resolves them: one version of each
 * package the code imports (grpc-js's proto-loader must accept ours), no
 * install script left for Deno to warn about on start, and the README's
 * import map for outside programs naming the same versions.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const lock = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.lock")));
const npm: Record<string, { scripts?: boolean }> = lock.npm;

/** Locked versions by package name (`@scope/name@1.2.3` → name → [1.2.3]). */
function lockedVersions(): Map<string, string[]> {
  const versions = new Map<string, string[]>();
  for (const key of Object.keys(npm)) {
    const at = key.lastIndexOf("@");
    const name = key.slice(0, at);
    versions.set(name, [...(versions.get(name) ?? []), key.slice(at + 1)]);
  }
  return versions;
}

Deno.test("the lock resolves one version of every npm package we import", () => {
  const versions = lockedVersions();
  for (const [specifier, target] of Object.entries(config.imports as Record<string, string>)) {
    const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/?$/.exec(target);
    assert(match, `${specifier}: ${target}`);
    const [, name, version] = match;
    assertEquals(versions.get(name), [version], `${name} in deno.lock`);
  }
});

Deno.test("every locked package with an install script is denied it, so start-up prints no notice", () => {
  const denied = new Set<string>(config.allowScripts?.deny ?? []);
  const allowed = new Set<string>(config.allowScripts?.allow ?? []);
  for (const [key, info] of Object.entries(npm)) {
    if (!info.scripts) continue;
    const name = `npm:${key.slice(0, key.lastIndexOf("@"))}`;
    assert(denied.has(name) || allowed.has(name), `${key} has scripts; list it in allowScripts`);
  }
});

Deno.test("the README's import map for outside programs uses our versions", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const block = /\*\*Importing it\.\*\*[\s\S]*?```json\n([\s\S]*?)```/.exec(readme);
  assert(block, "README: no import map after 'Importing it.'");
  const theirs = JSON.parse(block[1]);
  for (const [specifier, target] of Object.entries(theirs.imports as Record<string, string>)) {
    if (target.startsWith("npm:")) assertEquals(target, config.imports[specifier], specifier);
  }
  assertEquals(theirs.allowScripts, config.allowScripts);
});
