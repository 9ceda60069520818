/**
 * Gitaly's routing annotations from lint.proto, read off protobufjs objects:
 * the `(op_type)` of a method, the `(intercepted)` flag of a service, and the
 * request fields marked `(target_repository)`, `(additional_repository)` or
 * `(storage)`. Shared by the runtime API and the proto linter so both agree on
 * what a request targets.
 *
 * @module
 */
import protobuf from "./protobuf.ts";
import { extensionOption } from "./options.ts";

/** Operation names from `gitaly.OperationMsg.Operation`. */
export type Operation = "UNKNOWN" | "MUTATOR" | "ACCESSOR" | "MAINTENANCE";
/** Scope names from `gitaly.OperationMsg.Scope`. */
export type Scope = "REPOSITORY" | "STORAGE";

/** A method's `(op_type)` option, as numbers (the linter needs to see invalid ones). */
export interface RawOperation {
  /** `op` as a number; 0 (UNKNOWN) when the option omits it. */
  op: number;
  /** `scope_level` as a number; 0 (REPOSITORY, the default) when omitted. */
  scope: number;
}

const OPERATION_ENUM = "gitaly.OperationMsg.Operation";
const SCOPE_ENUM = "gitaly.OperationMsg.Scope";

/** The method's `(gitaly.op_type)` option, or undefined when it has none. */
export function rawOperation(method: protobuf.Method): RawOperation | undefined {
  const value = extensionOption(method, "gitaly.op_type");
  if (value === undefined) return undefined;
  const fields = (value ?? {}) as { op?: unknown; scope_level?: unknown };
  return {
    op: enumNumber(method.root, OPERATION_ENUM, fields.op),
    scope: enumNumber(method.root, SCOPE_ENUM, fields.scope_level),
  };
}

/** The method's operation name, or undefined without `(op_type)`. Unknown numbers read as UNKNOWN. */
export function operationOf(method: protobuf.Method): Operation | undefined {
  const raw = rawOperation(method);
  if (!raw) return undefined;
  return (enumName(method.root, OPERATION_ENUM, raw.op) ?? "UNKNOWN") as Operation;
}

/** The method's scope name, or undefined without `(op_type)` or for a number Scope lacks. */
export function scopeOf(method: protobuf.Method): Scope | undefined {
  const raw = rawOperation(method);
  if (!raw) return undefined;
  return enumName(method.root, SCOPE_ENUM, raw.scope) as Scope | undefined;
}

/** True when the service carries `option (gitaly.intercepted) = true` (Praefect handles it itself). */
export function isIntercepted(service: protobuf.Service): boolean {
  return extensionOption(service, "gitaly.intercepted") === true;
}

/** The name of value number `value` of enum `enumFullName`, if the root has that enum and value. */
export function enumName(
  root: protobuf.Root,
  enumFullName: string,
  value: number,
): string | undefined {
  const enumType = lookupEnum(root, enumFullName);
  return enumType?.valuesById[value];
}

function enumNumber(root: protobuf.Root, enumFullName: string, value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return 0;
  return lookupEnum(root, enumFullName)?.values[value] ?? -1;
}

function lookupEnum(root: protobuf.Root, name: string): protobuf.Enum | undefined {
  const found = root.lookup(name);
  return found instanceof protobuf.Enum ? found : undefined;
}

/** Which annotation to look for and what a marked field must be. */
export interface AnnotationSpec {
  /** Extension marking the field, e.g. `gitaly.target_repository`. */
  annotation: string;
  /**
   * Inside a marked field whose type is not `expectedType`, the extension that
   * marks the real field (Gitaly: `gitaly.repository` in a header message).
   */
  nested?: string;
  /** Fully qualified type the marked field must have (`.gitaly.Repository`); "" for a scalar. */
  expectedType: string;
}

/** A field found by {@link findAnnotatedFields}, as the field names leading to it. */
export interface FieldPath {
  /** Field names from the request message down, e.g. `["header", "repository"]`. */
  path: string[];
  /** The marked field itself. */
  field: protobuf.Field;
}

/** A marked field of the wrong type (e.g. `(repository)` on something that is not a Repository). */
export interface WrongType {
  /** Field names from the request message down. */
  path: string[];
  /** What the field should have been. */
  expected: string;
  /** What it is (fully qualified type name, "" for scalars). */
  actual: string;
}

/** Result of {@link findAnnotatedFields}. */
export interface AnnotationSearch {
  /** Matching fields in declaration order, depth first. */
  matches: FieldPath[];
  /** Set when the search hit a wrongly typed marked field (the search stops there). */
  wrongType?: WrongType;
}

/** `(target_repository)`, directly or on a header whose `(repository)` field is the Repository. */
export const TARGET_REPOSITORY: AnnotationSpec = {
  annotation: "gitaly.target_repository",
  nested: "gitaly.repository",
  expectedType: ".gitaly.Repository",
};

/** `(additional_repository)`, same shape as the target repository. */
export const ADDITIONAL_REPOSITORY: AnnotationSpec = {
  annotation: "gitaly.additional_repository",
  nested: "gitaly.repository",
  expectedType: ".gitaly.Repository",
};

/** `(storage)`: a scalar (string) field naming a storage. */
export const STORAGE: AnnotationSpec = { annotation: "gitaly.storage", expectedType: "" };

/**
 * Walks `type`'s fields (and, depth first, the fields of message-typed fields)
 * for fields marked as `spec` says, the way Gitaly's protoc linter does: a
 * marked field of the expected type is a match; a marked field of another
 * message type is searched for the `nested` annotation instead; unmarked
 * message fields are searched for the same annotation.
 */
export function findAnnotatedFields(type: protobuf.Type, spec: AnnotationSpec): AnnotationSearch {
  const search: AnnotationSearch = { matches: [] };
  walk(type, spec.annotation, spec.nested, spec.expectedType, [], new Set([type]), search);
  return search;
}

function walk(
  type: protobuf.Type,
  annotation: string,
  nested: string | undefined,
  expectedType: string,
  prefix: string[],
  seen: Set<protobuf.Type>,
  search: AnnotationSearch,
): void {
  for (const field of type.fieldsArray) {
    if (search.wrongType) return;
    const path = [...prefix, field.name];
    let nextAnnotation = annotation;
    let nextNested = nested;
    if (extensionOption(field, annotation) === true) {
      const actual = typeNameOf(field);
      if (actual === expectedType) {
        search.matches.push({ path, field });
        continue;
      }
      if (nested === undefined) {
        search.wrongType = { path, expected: expectedType, actual };
        return;
      }
      nextAnnotation = nested;
      nextNested = undefined;
    }
    const child = messageTypeOf(field);
    if (child && !seen.has(child)) {
      const childPath = field.map ? [...path, "value"] : path;
      seen.add(child);
      walk(child, nextAnnotation, nextNested, expectedType, childPath, seen, search);
      seen.delete(child);
    }
  }
}

/** The field's fully qualified message or enum type (`.gitaly.Repository`), or "" for scalars. */
export function typeNameOf(field: protobuf.Field): string {
  field.resolve();
  return field.resolvedType ? field.resolvedType.fullName : "";
}

function messageTypeOf(field: protobuf.Field): protobuf.Type | undefined {
  field.resolve();
  return field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
}

/** The path to the request's target repository (`["repository"]`, `["header", "repository"]`), if marked. */
export function targetRepositoryPath(type: protobuf.Type): string[] | undefined {
  return findAnnotatedFields(type, TARGET_REPOSITORY).matches[0]?.path;
}

/** The path to the request's additional repository, if marked. */
export function additionalRepositoryPath(type: protobuf.Type): string[] | undefined {
  return findAnnotatedFields(type, ADDITIONAL_REPOSITORY).matches[0]?.path;
}

/** The path to the request's storage name field, if marked. */
export function storagePath(type: protobuf.Type): string[] | undefined {
  return findAnnotatedFields(type, STORAGE).matches[0]?.path;
}
