/**
 * Builds protoc-style FileDescriptorProtos (what gRPC reflection serves and what
 * Go's protoregistry holds) from a parsed {@link ProtoSet}.
 *
 * The output follows protoc's conventions so descriptors compare equal to the
 * ones compiled into Gitaly's Go package: fully qualified type names with a
 * leading dot, json_name on every field, synthesized `…Entry` types for maps,
 * exclusive ends for message reserved/extension ranges and inclusive ends for
 * enum reserved ranges, streaming flags only when true.
 *
 * @module
 */
import protobuf from "./protobuf.ts";
import type { ProtoFile, ProtoSet } from "./parse.ts";
import { resolveExtensionField } from "./options.ts";
import { declaredIn, isExtension } from "./declarations.ts";

/** A FileDescriptorProto as a plain object (snake_case keys, enums as numbers). */
export type DescriptorObject = Record<string, unknown>;

/** A built descriptor plus the options that could not be expressed in it. */
export interface BuiltDescriptor {
  /** The FileDescriptorProto, ready for `FileDescriptorProto.fromObject`. */
  descriptor: DescriptorObject;
  /** Options that have no place in descriptor.proto (`where: key`), for the caller to judge. */
  unmapped: string[];
}

const FIELD_TYPES: Record<string, number> = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;
/** protobufjs writes `max` in ranges as this; protoc's exclusive end is one more. */
const FIELD_NUMBER_MAX = 0x1fffffff;
/** protoc's `max` for enum values. */
const ENUM_NUMBER_MAX = 0x7fffffff;
/** Options protobufjs keeps on fields that are descriptor fields, not FieldOptions. */
const FIELD_PSEUDO_OPTIONS = new Set(["default", "json_name", "proto3_optional"]);

/** Builds the FileDescriptorProto of one file of `set`. */
export function buildFileDescriptor(set: ProtoSet, file: ProtoFile): BuiltDescriptor {
  const builder = new Builder(set.root, file.name);
  return { descriptor: builder.file(file), unmapped: builder.unmapped };
}

/** Encodes a descriptor object with the descriptor.proto types in `root`. */
export function encodeFileDescriptor(
  root: protobuf.Root,
  descriptor: DescriptorObject,
): Uint8Array {
  const type = root.lookupType("google.protobuf.FileDescriptorProto");
  return type.encode(type.fromObject(descriptor)).finish();
}

class Builder {
  readonly unmapped: string[] = [];

  constructor(private readonly root: protobuf.Root, private readonly fileName: string) {}

  file(file: ProtoFile): DescriptorObject {
    const objects = declaredIn(this.root, this.fileName);
    const scope = (file.package ? this.root.lookup(file.package) : this.root) as protobuf.Namespace;
    const dependency = [...file.imports, ...file.weakImports];
    return compact({
      name: file.name,
      package: file.package || undefined,
      dependency,
      weak_dependency: file.weakImports.map((_, i) => file.imports.length + i),
      message_type: objects.filter(isType).map((t) => this.message(t)),
      enum_type: objects.filter(isEnum).map((e) => this.enumType(e)),
      service: objects.filter(isService).map((s) => this.service(s)),
      extension: objects.filter(isExtension).map((f) => this.field(f)),
      options: this.options(file.options, insideOf(scope, this.root), "FileOptions", file.name),
      syntax: file.syntax === "proto3" ? "proto3" : undefined,
    });
  }

  private message(type: protobuf.Type): DescriptorObject {
    const fields = type.fieldsArray.filter((f) => !f.declaringField);
    const oneofs = orderedOneofs(type);
    const nested = type.nestedArray;
    return compact({
      name: type.name,
      field: fields.map((f) => this.field(f, oneofs)),
      nested_type: [
        ...nested.filter(isType).map((t) => this.message(t)),
        ...fields.filter(isMapField).map((f) => this.mapEntry(f)),
      ],
      enum_type: nested.filter(isEnum).map((e) => this.enumType(e)),
      extension: nested.filter(isExtension).map((f) => this.field(f)),
      extension_range: (type.extensions ?? []).map(([start, end]) => ({ start, end: end + 1 })),
      oneof_decl: oneofs.map((o) =>
        compact({ name: o.name, options: this.objectOptions(o, "OneofOptions") })
      ),
      options: this.objectOptions(type, "MessageOptions"),
      reserved_range: numericRanges(type.reserved).map(([start, end]) => ({ start, end: end + 1 })),
      reserved_name: reservedNames(type.reserved),
    });
  }

  private field(field: protobuf.Field, oneofs: protobuf.OneOf[] = []): DescriptorObject {
    field.resolve();
    const options = field.options ?? {};
    const oneofIndex = field.partOf ? oneofs.indexOf(field.partOf) : -1;
    return compact({
      name: field.name,
      number: field.id,
      label: field.map || field.repeated
        ? LABEL_REPEATED
        : field.required
        ? LABEL_REQUIRED
        : LABEL_OPTIONAL,
      ...this.fieldType(field),
      extendee: field.extend !== undefined ? this.extendee(field) : undefined,
      default_value: options.default !== undefined ? String(options.default) : undefined,
      oneof_index: oneofIndex >= 0 ? oneofIndex : undefined,
      json_name: typeof options.json_name === "string" ? options.json_name : jsonName(field.name),
      options: this.objectOptions(field, "FieldOptions", FIELD_PSEUDO_OPTIONS),
      proto3_optional: options.proto3_optional === true ? true : undefined,
    });
  }

  private fieldType(field: protobuf.Field): { type: number; type_name?: string } {
    if (field.map) {
      return {
        type: TYPE_MESSAGE,
        type_name: `${field.parent!.fullName}.${mapEntryName(field.name)}`,
      };
    }
    if (field.resolvedType instanceof protobuf.Type) {
      return { type: TYPE_MESSAGE, type_name: field.resolvedType.fullName };
    }
    if (field.resolvedType instanceof protobuf.Enum) {
      return { type: TYPE_ENUM, type_name: field.resolvedType.fullName };
    }
    const type = FIELD_TYPES[field.type];
    if (type === undefined) {
      throw new Error(`${this.fileName}: ${field.fullName}: unsupported type ${field.type}`);
    }
    return { type };
  }

  private extendee(field: protobuf.Field): string {
    const extended = field.extensionField?.parent;
    if (!extended) throw new Error(`${this.fileName}: extension ${field.fullName} is not resolved`);
    return extended.fullName;
  }

  /** protoc turns `map<K, V> name = n` into a nested `NameEntry {K key = 1; V value = 2;}`. */
  private mapEntry(field: protobuf.Field): DescriptorObject {
    const map = field as unknown as protobuf.MapField;
    const key = {
      name: "key",
      number: 1,
      label: LABEL_OPTIONAL,
      type: FIELD_TYPES[map.keyType],
      json_name: "key",
    };
    const valueType = map.resolvedType instanceof protobuf.Type
      ? { type: TYPE_MESSAGE, type_name: map.resolvedType.fullName }
      : map.resolvedType instanceof protobuf.Enum
      ? { type: TYPE_ENUM, type_name: map.resolvedType.fullName }
      : { type: FIELD_TYPES[map.type] };
    const value = {
      name: "value",
      number: 2,
      label: LABEL_OPTIONAL,
      ...valueType,
      json_name: "value",
    };
    return { name: mapEntryName(field.name), field: [key, value], options: { map_entry: true } };
  }

  private enumType(enumType: protobuf.Enum): DescriptorObject {
    const valueOptions =
      (enumType as { valuesOptions?: Record<string, Record<string, unknown>> }).valuesOptions ?? {};
    return compact({
      name: enumType.name,
      value: Object.entries(enumType.values).map(([name, number]) =>
        compact({
          name,
          number,
          options: this.options(
            valueOptions[name],
            insideOf(enumType, this.root),
            "EnumValueOptions",
            `${enumType.fullName}.${name}`,
          ),
        })
      ),
      options: this.objectOptions(enumType, "EnumOptions"),
      // Enum reserved ranges are inclusive, unlike message ones, and reach int32's max.
      reserved_range: numericRanges(enumType.reserved).map(([start, end]) => ({
        start,
        end: end === FIELD_NUMBER_MAX ? ENUM_NUMBER_MAX : end,
      })),
      reserved_name: reservedNames(enumType.reserved),
    });
  }

  private service(service: protobuf.Service): DescriptorObject {
    return compact({
      name: service.name,
      method: service.methodsArray.map((method) => {
        method.resolve();
        return compact({
          name: method.name,
          input_type: method.resolvedRequestType!.fullName,
          output_type: method.resolvedResponseType!.fullName,
          options: this.objectOptions(method, "MethodOptions"),
          client_streaming: method.requestStream ? true : undefined,
          server_streaming: method.responseStream ? true : undefined,
        });
      }),
      options: this.objectOptions(service, "ServiceOptions"),
    });
  }

  private objectOptions(
    object: protobuf.ReflectionObject,
    optionsType: string,
    skip: ReadonlySet<string> = new Set(),
  ): DescriptorObject | undefined {
    return this.options(object.options, object, optionsType, object.fullName, skip);
  }

  /**
   * Turns protobufjs's flat option map (`deprecated`, `(op_type).op`, …) into an
   * `…Options` message object. Custom options become the extension's sister
   * field (named by its full name), which is how protobufjs encodes extensions.
   */
  private options(
    flat: Record<string, unknown> | undefined,
    resolveFrom: protobuf.ReflectionObject,
    optionsType: string,
    where: string,
    skip: ReadonlySet<string> = new Set(),
  ): DescriptorObject | undefined {
    if (!flat) return undefined;
    const type = this.root.lookupType(`google.protobuf.${optionsType}`);
    const result: DescriptorObject = {};
    for (const [key, value] of Object.entries(flat)) {
      if (skip.has(key)) continue;
      const path = optionPath(key, resolveFrom);
      if (!path || !setOptionValue(type, result, path, value)) {
        this.unmapped.push(`${where}: ${key}`);
      }
    }
    return Object.keys(result).length ? result : undefined;
  }
}

/**
 * `(op_type).op` → [".gitaly.op_type", "op"]; `deprecated` → ["deprecated"].
 * Custom names are resolved from the scopes enclosing `resolveFrom`.
 */
function optionPath(key: string, resolveFrom: protobuf.ReflectionObject): string[] | undefined {
  const custom = /^\(([^)]+)\)(?:\.(.+))?$/.exec(key);
  if (!custom) return key.split(".");
  const extension = resolveExtensionField(resolveFrom, custom[1]);
  if (!extension) return undefined;
  return [extension.fullName, ...(custom[2] ? custom[2].split(".") : [])];
}

/** A stand-in object declared directly inside `scope`, for resolving names from there. */
function insideOf(
  scope: protobuf.ReflectionObject,
  root: protobuf.Root,
): protobuf.ReflectionObject {
  return { parent: scope, root } as unknown as protobuf.ReflectionObject;
}

/** Sets `value` at `path` inside an options object shaped by `type`; false when the path does not exist. */
function setOptionValue(
  type: protobuf.Type,
  target: DescriptorObject,
  path: string[],
  value: unknown,
): boolean {
  const [head, ...rest] = path;
  const field = type.fields[head];
  if (!field) return false;
  field.resolve();
  if (rest.length === 0) {
    target[head] = field.repeated && !Array.isArray(value) ? [value] : value;
    return true;
  }
  if (!(field.resolvedType instanceof protobuf.Type)) return false;
  if (field.repeated) {
    const list = (target[head] ??= [{}]) as DescriptorObject[];
    return setOptionValue(field.resolvedType, list[0], rest, value);
  }
  const inner = (target[head] ??= {}) as DescriptorObject;
  return setOptionValue(field.resolvedType, inner, rest, value);
}

/** Real oneofs in declaration order, then proto3 `optional` ones, as protoc orders them. */
function orderedOneofs(type: protobuf.Type): protobuf.OneOf[] {
  const all = type.oneofsArray;
  const synthetic = (o: protobuf.OneOf) =>
    o.fieldsArray.length === 1 && o.fieldsArray[0].options?.proto3_optional === true;
  const real = all.filter((o) => !synthetic(o));
  const optional = type.fieldsArray.map((f) => f.partOf).filter((o): o is protobuf.OneOf =>
    o != null && synthetic(o)
  );
  return [...real, ...optional];
}

/** protoc's json_name: drop underscores, upper-casing the letter after each. */
export function jsonName(name: string): string {
  let result = "";
  let upper = false;
  for (const c of name) {
    if (c === "_") upper = true;
    else {
      result += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return result;
}

/** protoc's map entry name: `max_bytes_per_ext` → `MaxBytesPerExtEntry`. */
export function mapEntryName(fieldName: string): string {
  return fieldName.replace(/(?:^|_+)(.?)/g, (_, c: string) => c.toUpperCase()) + "Entry";
}

function numericRanges(reserved: (number[] | string)[] | undefined): [number, number][] {
  return (reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map(([start, end]) => [
    start,
    end >= FIELD_NUMBER_MAX ? FIELD_NUMBER_MAX : end,
  ]);
}

function reservedNames(reserved: (number[] | string)[] | undefined): string[] {
  return (reserved ?? []).filter((r): r is string => typeof r === "string");
}

/** Drops undefined values and empty arrays, which protoc leaves out too. */
function compact(object: DescriptorObject): DescriptorObject {
  return Object.fromEntries(
    Object.entries(object).filter(([, v]) =>
      v !== undefined && !(Array.isArray(v) && v.length === 0)
    ),
  );
}

function isType(object: protobuf.ReflectionObject): object is protobuf.Type {
  return object instanceof protobuf.Type;
}

function isEnum(object: protobuf.ReflectionObject): object is protobuf.Enum {
  return object instanceof protobuf.Enum;
}

function isService(object: protobuf.ReflectionObject): object is protobuf.Service {
  return object instanceof protobuf.Service;
}

function isMapField(field: protobuf.Field): boolean {
  return field.map;
}
