/**
 * Compares encoded FileDescriptorProtos while ignoring declaration order, which
 * never reaches the wire: named things are keyed by name, fields by number,
 * oneof membership by the oneof's name, imports sorted.
 *
 * @module
 */
import { messageType } from "../../src/proto/mod.ts";

const fileType = messageType("google.protobuf.FileDescriptorProto");

/** Paths where two encoded descriptors differ (empty when equal), prefixed with `name`. */
export function descriptorDifferences(
  name: string,
  ours: Uint8Array,
  theirs: Uint8Array,
): string[] {
  return diff(name, normalizeFile(ours), normalizeFile(theirs));
}

/** How many methods in the descriptors carry the extension option `extension` (e.g. `.gitaly.op_type`). */
export function countMethodOptions(descriptors: Iterable<Uint8Array>, extension: string): number {
  let count = 0;
  for (const bytes of descriptors) {
    const file = fileType.decode(bytes) as unknown as {
      service?: { method?: { options?: object }[] }[];
    };
    for (const service of file.service ?? []) {
      for (const method of service.method ?? []) {
        if (method.options && extension in method.options) count++;
      }
    }
  }
  return count;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Decodes a FileDescriptorProto and rewrites it so declaration order does not matter. */
function normalizeFile(bytes: Uint8Array): Json {
  const object = fileType.toObject(fileType.decode(bytes), {
    enums: String,
    longs: Number,
    bytes: String,
    defaults: false,
  }) as { [key: string]: Json };
  return normalize(object);
}

function normalize(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value;
  const out: { [key: string]: Json } = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === "nested_type" || key === "message_type") out[key] = message(inner as Json[]);
    else out[key] = normalize(inner);
  }
  if (Array.isArray(out.dependency)) out.dependency = [...out.dependency].sort();
  return keyed(out);
}

/** Messages: fields keyed by number, with the oneof's name instead of its index. */
function message(messages: Json[]): Json {
  return messages.map((m) => {
    const msg = m as { [key: string]: Json };
    const oneofs = (msg.oneof_decl as { name: string }[] | undefined) ?? [];
    const fields = ((msg.field as { [key: string]: Json }[] | undefined) ?? []).map((f) => {
      const { oneof_index, ...rest } = f;
      return oneof_index === undefined
        ? rest
        : { ...rest, oneof: oneofs[oneof_index as number].name };
    });
    return normalize({ ...msg, field: fields });
  });
}

/** Turns arrays of named things into objects keyed by name (fields by number). */
function keyed(object: { [key: string]: Json }): { [key: string]: Json } {
  for (
    const key of [
      "message_type",
      "nested_type",
      "enum_type",
      "service",
      "method",
      "extension",
      "oneof_decl",
    ]
  ) {
    const list = object[key];
    if (Array.isArray(list)) object[key] = byKey(list, "name");
  }
  if (Array.isArray(object.field)) object.field = byKey(object.field, "number");
  if (Array.isArray(object.value)) object.value = byKey(object.value, "name");
  return object;
}

function byKey(list: Json[], key: string): Json {
  const out: { [key: string]: Json } = {};
  for (const item of list) out[String((item as { [key: string]: Json })[key])] = item;
  return out;
}

/** Paths where `a` and `b` differ, e.g. `repository.proto: message_type.X.field.1.type: A != B`. */
function diff(path: string, a: Json | undefined, b: Json | undefined): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const left = a as { [key: string]: Json };
    const right = b as { [key: string]: Json };
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    return keys.flatMap((key) => diff(`${path}.${key}`, left[key], right[key]));
  }
  return [`${path}: ours ${JSON.stringify(a)} != gitalypb ${JSON.stringify(b)}`];
}
