/**
 * Reading custom (extension) options such as `(gitaly.op_type)` off protobufjs
 * reflection objects.
 *
 * protobufjs keeps options as written, flattened: `option (op_type) = { op:
 * MUTATOR }` becomes `{"(op_type).op": "MUTATOR"}`, and another file may spell
 * the same option `(gitaly.op_type)`. Names are therefore resolved against the
 * object's scope, the way protoc does, before they are compared.
 *
 * @module
 */
import type protobuf from "./protobuf.ts";

const CUSTOM_OPTION = /^\(([^)]+)\)(?:\.(.+))?$/;

/**
 * The value of the extension option `extension` (fully qualified, e.g.
 * `gitaly.op_type`) on `object`, or undefined when it is not set. Message-typed
 * options come back as plain objects (`{op: "MUTATOR", scope_level: "STORAGE"}`),
 * enum values as their names when written by name.
 */
export function extensionOption(object: protobuf.ReflectionObject, extension: string): unknown {
  const wanted = "." + extension.replace(/^\./, "");
  let value: unknown = undefined;
  for (const [key, optionValue] of Object.entries(object.options ?? {})) {
    const match = CUSTOM_OPTION.exec(key);
    if (!match || resolveExtensionName(object, match[1]) !== wanted) continue;
    value = match[2] === undefined ? optionValue : setPath(value, match[2].split("."), optionValue);
  }
  return value;
}

/** Every custom option key written on `object`, resolved: `(op_type).op` → `.gitaly.op_type`. */
export function customOptionNames(object: protobuf.ReflectionObject): string[] {
  const names = new Set<string>();
  for (const key of Object.keys(object.options ?? {})) {
    const match = CUSTOM_OPTION.exec(key);
    if (match) names.add(resolveExtensionName(object, match[1]) ?? match[1]);
  }
  return [...names];
}

/**
 * The extension field an option name refers to, searched from the object's
 * enclosing scope outwards as protoc does (skipping ordinary fields that happen
 * to share the name); undefined when no such extension exists.
 */
export function resolveExtensionField(
  object: protobuf.ReflectionObject,
  name: string,
): protobuf.Field | undefined {
  const root = object.root;
  const candidates = name.startsWith(".") ? [name] : scopesOf(object).map((s) => `${s}.${name}`);
  for (const candidate of candidates) {
    const found = root.lookup(candidate) as protobuf.Field | null;
    if (found && found.extend !== undefined) return found;
  }
  return undefined;
}

/** Fully qualified names of the enclosing scopes, innermost first, ending with the root (""). */
function scopesOf(object: protobuf.ReflectionObject): string[] {
  const scopes: string[] = [];
  for (let scope = object.parent; scope; scope = scope.parent) {
    scopes.push(scope.fullName === "." ? "" : scope.fullName);
  }
  if (scopes.at(-1) !== "") scopes.push("");
  return scopes;
}

function resolveExtensionName(object: protobuf.ReflectionObject, name: string): string | undefined {
  return resolveExtensionField(object, name)?.fullName;
}

function setPath(target: unknown, path: string[], value: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = isRecord(target) ? target : {};
  const [head, ...rest] = path;
  result[head] = rest.length === 0 ? value : setPath(result[head], rest, value);
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
