/**
 * Validation of fully qualified reference names, with Gitaly's rules and
 * messages (its `ValidateReference`, a faithful copy of git's
 * `check_refname_format()`): what `git update-ref` would refuse is refused
 * before git runs, with a message that says why.
 *
 * @module
 */

const SPECIAL = new Set([":", "?", "[", "\\", "^", "~", "*", "\x7f"]);

/**
 * Why `name` is not a valid fully qualified reference name (`refs/…`), or
 * `undefined` when it is. `HEAD` is refused too: it is not a reference one
 * may update or delete like the others.
 */
export function referenceProblem(name: string): string | undefined {
  if (name === "HEAD") return "HEAD reference not allowed";
  if (!name.startsWith("refs/")) return "reference is not fully qualified";
  const rest = name.slice("refs/".length);
  if (rest === "") return "refs/ is not a valid reference";
  if (rest.endsWith("/")) return "reference must not end with slash";
  if (rest.endsWith(".")) return "reference must not end with dot";
  if (rest.includes("@{")) return "reference must not contain @{";
  if (rest.includes("..")) return "reference must not contain double dots";
  for (const c of rest) {
    if (c === " " || c === "\t" || c === "\n") return "reference must not contain space characters";
    if (SPECIAL.has(c)) return "reference must not contain special characters";
    if (c.charCodeAt(0) < 32) return "reference must not contain control characters";
  }
  const components = rest.split("/");
  for (const [i, component] of components.entries()) {
    if (component === "") {
      // Only a trailing empty component would be fine, and that was refused above.
      if (i < components.length - 1) return "empty component is not allowed";
      continue;
    }
    if (component.startsWith(".")) return "component must not start with dot";
    if (component.endsWith(".lock")) return "component must not end with .lock";
  }
  return undefined;
}
