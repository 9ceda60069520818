/**
 * The google/protobuf files Gitaly's protos import, bundled so nothing is read
 * from disk: descriptor.proto comes from the protobufjs package (its JSON form),
 * the small ones are written out here.
 *
 * @module
 */
import descriptorJson from "protobufjs/google/protobuf/descriptor.json" with { type: "json" };
import type { ProtoSource } from "./sources.ts";

/** Import name of descriptor.proto. */
export const DESCRIPTOR_PROTO = "google/protobuf/descriptor.proto";

/** duration, empty, timestamp and wrappers.proto as .proto text. */
export const WELL_KNOWN_SOURCES: readonly ProtoSource[] = [
  {
    name: "google/protobuf/duration.proto",
    source: `syntax = "proto3";
package google.protobuf;
${fileOptions("duration", "DurationProto")}
message Duration {
  int64 seconds = 1;
  int32 nanos = 2;
}
`,
  },
  {
    name: "google/protobuf/empty.proto",
    source: `syntax = "proto3";
package google.protobuf;
${fileOptions("empty", "EmptyProto")}
message Empty {}
`,
  },
  {
    name: "google/protobuf/timestamp.proto",
    source: `syntax = "proto3";
package google.protobuf;
${fileOptions("timestamp", "TimestampProto")}
message Timestamp {
  int64 seconds = 1;
  int32 nanos = 2;
}
`,
  },
  {
    name: "google/protobuf/wrappers.proto",
    source: `syntax = "proto3";
package google.protobuf;
${fileOptions("wrappers", "WrappersProto")}
${wrapper("Double", "double")}
${wrapper("Float", "float")}
${wrapper("Int64", "int64")}
${wrapper("UInt64", "uint64")}
${wrapper("Int32", "int32")}
${wrapper("UInt32", "uint32")}
${wrapper("Bool", "bool")}
${wrapper("String", "string")}
${wrapper("Bytes", "bytes")}
`,
  },
];

/** The file options protoc records for each well-known file (reflection clients see them). */
function fileOptions(goName: string, javaClass: string): string {
  return [
    `option go_package = "google.golang.org/protobuf/types/known/${goName}pb";`,
    `option java_package = "com.google.protobuf";`,
    `option java_outer_classname = "${javaClass}";`,
    `option java_multiple_files = true;`,
    `option cc_enable_arenas = true;`,
    `option objc_class_prefix = "GPB";`,
    `option csharp_namespace = "Google.Protobuf.WellKnownTypes";`,
  ].join("\n");
}

/** One wrappers.proto message: `message Int32Value { int32 value = 1; }`. */
function wrapper(name: string, scalar: string): string {
  return `message ${name}Value {\n  ${scalar} value = 1;\n}`;
}

/**
 * descriptor.proto as protobufjs JSON, rooted at the top (`{nested: {google: …}}`).
 *
 * protobufjs ships it with camelCase field names; every field of
 * descriptor.proto is lower snake_case in the original, so turning each capital
 * back into `_` + lower case restores the real names exactly. Real names matter:
 * they end up in the descriptors reflection clients read.
 */
export function descriptorProtoJson(): Record<string, unknown> {
  return snakeCaseFieldNames(structuredClone(descriptorJson)) as Record<string, unknown>;
}

function snakeCaseFieldNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(snakeCaseFieldNames);
  if (node === null || typeof node !== "object") return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "fields") {
      result.fields = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, field]) => [
          toSnakeCase(name),
          field,
        ]),
      );
    } else if (key === "oneofs") {
      result.oneofs = Object.fromEntries(
        Object.entries(value as Record<string, { oneof: string[] }>).map(([name, oneof]) => [
          toSnakeCase(name),
          { ...oneof, oneof: oneof.oneof.map(toSnakeCase) },
        ]),
      );
    } else {
      result[key] = snakeCaseFieldNames(value);
    }
  }
  return result;
}

function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}
