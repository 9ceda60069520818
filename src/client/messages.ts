/**
 * Message types for client calls, built from the embedded proto JSON but
 * only for the types asked for (and what they reference). Resolving the
 * whole Gitaly root takes tens of milliseconds; short-lived programs such
 * as gitaly-ssh only need a handful of messages.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import protobuf from "../proto/protobuf.ts";
import { PROTO_JSON } from "../proto/generated.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Encoder and decoder of one message type, in the shape grpc-js wants. */
export interface MessageCodec<T = Record<string, unknown>> {
  type: protobuf.Type;
  /** Plain object (proto field names) or message → wire bytes. */
  serialize(value: T): Buffer;
  /** Wire bytes → message (bytes fields are views into `bytes`). */
  deserialize(bytes: Buffer): T;
}

let allJson: Json | undefined;
const roots = new Map<string, protobuf.Root>();

/**
 * A root holding the `gitaly.*` messages named in `names` (short names,
 * e.g. `SSHUploadPackRequest`) and every type they reference. Cached per
 * set of names.
 */
export function subsetRoot(names: readonly string[]): protobuf.Root {
  const key = [...names].sort().join(",");
  let root = roots.get(key);
  if (!root) {
    allJson ??= JSON.parse(PROTO_JSON) as Json;
    const picked: Json = {};
    for (const name of names) pick(allJson, picked, ["gitaly", name]);
    root = protobuf.Root.fromJSON(picked);
    root.resolveAll();
    roots.set(key, root);
  }
  return root;
}

/** The codec of `gitaly.<name>` from a subset root holding `names`. */
export function codec<T = Record<string, unknown>>(
  name: string,
  names: readonly string[] = [name],
): MessageCodec<T> {
  const type = subsetRoot(names).lookupType(`gitaly.${name}`);
  return {
    type,
    serialize: (value) => asBuffer(type.encode(type.fromObject(value as Json)).finish()),
    deserialize: (bytes) => type.decode(bytes) as unknown as T,
  };
}

/** Copies the definition at `path` (and, recursively, the types it uses) from `all` into `out`. */
function pick(all: Json, out: Json, path: string[]): void {
  const source = lookup(all, path);
  if (!source) throw new Error(`unknown proto type ${path.join(".")}`);
  const parent = ensureNamespace(out, path.slice(0, -1));
  const name = path[path.length - 1];
  if (parent.nested[name]) return;
  parent.nested[name] = source;
  for (const reference of references(source, new Set())) pick(all, out, reference);
}

/**
 * Paths of the types a definition uses outside itself. In the generated
 * JSON a reference is either `google.protobuf.X` or a bare name, which is a
 * type nested in the message (or an enclosing one) or else a top-level
 * gitaly type.
 */
function references(definition: Json, enclosing: ReadonlySet<string>): string[][] {
  const inScope = new Set([...enclosing, ...Object.keys(definition.nested ?? {})]);
  const refs: string[][] = [];
  for (const field of Object.values<Json>(definition.fields ?? {})) {
    const type: string = field.type;
    if (SCALARS.has(type) || inScope.has(type)) continue;
    refs.push(type.startsWith("google.") ? type.split(".") : ["gitaly", type]);
  }
  for (const nested of Object.values<Json>(definition.nested ?? {})) {
    refs.push(...references(nested, inScope));
  }
  return refs;
}

function lookup(json: Json, path: string[]): Json | undefined {
  let node: Json | undefined = json;
  for (const part of path) node = node?.nested?.[part];
  return node;
}

function ensureNamespace(out: Json, path: string[]): Json & { nested: Json } {
  let node = out;
  for (const part of path) {
    node.nested ??= {};
    node.nested[part] ??= { nested: {} };
    node = node.nested[part];
  }
  node.nested ??= {};
  return node as Json & { nested: Json };
}

const SCALARS = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
