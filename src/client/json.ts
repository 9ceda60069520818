/**
 * Message → protobuf JSON, the way Go's `protojson.Marshal` writes it:
 * lowerCamelCase field names, default values left out, bytes as base64,
 * 64-bit integers as strings, enums by name, `google.protobuf.Timestamp`
 * as RFC 3339. The counterpart of `parseProtoJson`.
 *
 * @module
 */
import type protobuf from "protobufjs";
import { jsonName } from "./protojson.ts";

type Json = Record<string, unknown>;

/** `message` (a decoded message or plain object of `type`) as a protobuf JSON value. */
export function toProtoJson(type: protobuf.Type, message: unknown): Record<string, unknown> {
  const plain = type.toObject(type.fromObject(message as Json), {
    longs: String,
    enums: String,
    bytes: String,
  });
  return renameFields(type, plain);
}

function renameFields(type: protobuf.Type, plain: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in plain)) continue;
    const value = plain[field.name];
    if (isDefault(field, value) && !hasPresence(field)) continue;
    out[jsonName(field.name)] = fieldJson(field, value);
  }
  return out;
}

/** A singular scalar or enum at its zero value (after toObject's conversions). */
function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.repeated || field.map) return false;
  field.resolve();
  const type = field.resolvedType;
  if (type && "values" in type) return (type as protobuf.Enum).values[value as string] === 0;
  if (type) return false; // a set message field is always written
  return value === "" || value === false || value === 0 || value === "0";
}

/** Fields whose zero value is still written: oneof members and proto3 `optional`. */
function hasPresence(field: protobuf.Field): boolean {
  return field.partOf !== null && field.partOf !== undefined;
}

function fieldJson(field: protobuf.Field, value: unknown): unknown {
  field.resolve();
  const type = field.resolvedType;
  if (!type || !("fieldsArray" in type)) return value; // scalars and enums are done
  const messageType = type as protobuf.Type;
  const convert = (v: unknown) => messageJson(messageType, v as Json);
  if (field.map) {
    return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, convert(v)]));
  }
  return field.repeated ? (value as unknown[]).map(convert) : convert(value);
}

function messageJson(type: protobuf.Type, plain: Json): unknown {
  if (type.fullName === ".google.protobuf.Timestamp") return timestampJson(plain);
  return renameFields(type, plain);
}

/** `{seconds, nanos}` → `2006-01-02T15:04:05.999999999Z` (fraction only when non-zero). */
function timestampJson(plain: Json): string {
  const seconds = Number(plain.seconds ?? 0);
  const nanos = Number(plain.nanos ?? 0);
  const base = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "");
  if (nanos === 0) return `${base}Z`;
  const digits = nanos % 1_000_000 === 0 ? 3 : nanos % 1000 === 0 ? 6 : 9;
  return `${base}.${String(nanos).padStart(9, "0").slice(0, digits)}Z`;
}
