/**
 * Protobuf JSON → message, accepting what Go's `protojson.Unmarshal`
 * accepts: each field by its lowerCamelCase JSON name (what Gitaly writes)
 * or by its proto name (snake_case); unknown fields and values of the wrong
 * JSON type are errors. Well-known types with special JSON forms
 * (Timestamp, Duration, …) are not supported; Gitaly's payloads have none.
 *
 * @module
 */
import type protobuf from "protobufjs";

/** A payload that does not match the message type. */
export class ProtoJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoJsonError";
  }
}

/** Parses `text` as protobuf JSON for `type`. */
export function parseProtoJson(type: protobuf.Type, text: string): protobuf.Message {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProtoJsonError(`invalid JSON: ${(err as Error).message}`);
  }
  return type.fromObject(toProtoObject(type, json, type.name));
}

/** protoc's JSON name: underscores dropped, the letter after each upper-cased. */
export function jsonName(fieldName: string): string {
  return fieldName.replace(
    /_+([a-zA-Z0-9])?/g,
    (_, c: string | undefined) => c?.toUpperCase() ?? "",
  );
}

/**
 * Converts protobuf JSON for `type` into the plain object protobufjs's
 * `fromObject` takes (proto field names, base64 bytes, enum names or
 * numbers), validating it on the way.
 */
export function toProtoObject(
  type: protobuf.Type,
  json: unknown,
  where: string,
): Record<string, unknown> {
  if (!isPlainObject(json)) throw new ProtoJsonError(`${where}: expected an object`);
  const byName = fieldIndex(type);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (!field) throw new ProtoJsonError(`${where}: unknown field ${JSON.stringify(key)}`);
    if (field.name in out) {
      throw new ProtoJsonError(`${where}: duplicate field ${JSON.stringify(key)}`);
    }
    if (value === null) continue;
    out[field.name] = fieldValue(field, value, `${where}.${key}`);
  }
  return out;
}

function fieldIndex(type: protobuf.Type): Map<string, protobuf.Field> {
  const index = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) {
    index.set(field.name, field);
    index.set(jsonName(field.name), field);
  }
  return index;
}

function fieldValue(field: protobuf.Field, value: unknown, where: string): unknown {
  field.resolve();
  if (field.map) {
    if (!isPlainObject(value)) throw new ProtoJsonError(`${where}: expected an object`);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, singleValue(field, v, `${where}[${k}]`)]),
    );
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new ProtoJsonError(`${where}: expected an array`);
    return value.map((v, i) => singleValue(field, v, `${where}[${i}]`));
  }
  return singleValue(field, value, where);
}

function singleValue(field: protobuf.Field, value: unknown, where: string): unknown {
  const resolved = field.resolvedType;
  if (resolved && "fieldsArray" in resolved) {
    return toProtoObject(resolved as protobuf.Type, value, where);
  }
  if (resolved) return enumValue(resolved as protobuf.Enum, value, where);
  return scalarValue(field.type, value, where);
}

function enumValue(enumType: protobuf.Enum, value: unknown, where: string): unknown {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && value in enumType.values) return value;
  throw new ProtoJsonError(`${where}: invalid value for enum ${enumType.name}`);
}

const INTEGER_TYPES = new Set([
  "int32",
  "uint32",
  "sint32",
  "fixed32",
  "sfixed32",
  "int64",
  "uint64",
  "sint64",
  "fixed64",
  "sfixed64",
]);

function scalarValue(type: string, value: unknown, where: string): unknown {
  if (type === "string") {
    if (typeof value === "string") return value;
  } else if (type === "bool") {
    if (typeof value === "boolean") return value;
  } else if (type === "bytes") {
    if (typeof value === "string" && /^[A-Za-z0-9+/_-]*=*$/.test(value)) {
      return standardBase64(value);
    }
  } else if (INTEGER_TYPES.has(type)) {
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  } else if (type === "double" || type === "float") {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
      return Number(value);
    }
    if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
  }
  throw new ProtoJsonError(`${where}: invalid value for ${type} field`);
}

/** protojson takes standard or URL-safe base64, padded or not; protobufjs wants standard. */
function standardBase64(value: string): string {
  const standard = value.replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  return standard + "=".repeat((4 - (standard.length % 4)) % 4);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
